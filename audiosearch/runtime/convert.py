"""proto <-> domain conversions for the shared audiosearch.type.v1 messages (the one place they are written)."""

import dataclasses
from datetime import UTC

from audiosearch.runtime import domain
from audiosearch.type.v1 import types_pb2

_STATE_TO_PROTO: dict[domain.ClipState, types_pb2.ClipState] = {
    domain.ClipState.PENDING: types_pb2.CLIP_STATE_PENDING,
    domain.ClipState.READY: types_pb2.CLIP_STATE_READY,
    domain.ClipState.FAILED: types_pb2.CLIP_STATE_FAILED,
    domain.ClipState.DELETING: types_pb2.CLIP_STATE_DELETING,
}
_STATE_FROM_PROTO: dict[int, domain.ClipState] = {value: key for key, value in _STATE_TO_PROTO.items()}


def state_to_proto(state: domain.ClipState) -> types_pb2.ClipState:
    return _STATE_TO_PROTO[state]


def state_from_proto(value: int) -> domain.ClipState | None:
    """None for CLIP_STATE_UNSPECIFIED."""
    return _STATE_FROM_PROTO.get(value)


def labels_to_proto(labels: domain.Labels) -> types_pb2.Labels:
    return types_pb2.Labels(speaker=labels.speaker, sound_class=labels.sound_class, tags=list(labels.tags))


def labels_from_proto(message: types_pb2.Labels) -> domain.Labels:
    return domain.Labels(speaker=message.speaker, sound_class=message.sound_class, tags=tuple(message.tags))


def audio_to_proto(audio: domain.AudioInfo) -> types_pb2.AudioInfo:
    return types_pb2.AudioInfo(
        duration_seconds=audio.duration_seconds,
        sample_rate=audio.sample_rate,
        channels=audio.channels,
        format=audio.format,
    )


def audio_from_proto(message: types_pb2.AudioInfo) -> domain.AudioInfo:
    return domain.AudioInfo(
        duration_seconds=message.duration_seconds,
        sample_rate=message.sample_rate,
        channels=message.channels,
        format=message.format,
    )


def segments_to_proto(options: domain.SegmentOptions) -> types_pb2.SegmentOptions:
    return types_pb2.SegmentOptions(window_seconds=options.window_seconds, hop_seconds=options.hop_seconds)


def segments_from_proto(message: types_pb2.SegmentOptions) -> domain.SegmentOptions:
    return domain.SegmentOptions(window_seconds=message.window_seconds, hop_seconds=message.hop_seconds)


def _set_time(field, value) -> None:
    if value is not None:
        field.FromDatetime(value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC))


def _get_time(message, name: str):
    return getattr(message, name).ToDatetime(tzinfo=UTC) if message.HasField(name) else None


def clip_to_proto(clip: domain.Clip) -> types_pb2.Clip:
    message = types_pb2.Clip(
        id=clip.id,
        collection=clip.collection,
        content_sha256=clip.content_sha256,
        source=clip.source,
        audio=audio_to_proto(clip.audio),
        labels=labels_to_proto(clip.labels),
        state=state_to_proto(clip.state),
        segment_count=clip.segment_count,
    )
    _set_time(message.create_time, clip.create_time)
    _set_time(message.update_time, clip.update_time)
    return message


def clip_from_proto(message: types_pb2.Clip) -> domain.Clip:
    return domain.Clip(
        id=message.id,
        collection=message.collection,
        content_sha256=message.content_sha256,
        source=message.source,
        audio=audio_from_proto(message.audio),
        labels=labels_from_proto(message.labels),
        state=state_from_proto(message.state) or domain.ClipState.PENDING,
        create_time=_get_time(message, "create_time"),
        update_time=_get_time(message, "update_time"),
        segment_count=message.segment_count,
    )


def collection_to_proto(collection: domain.Collection) -> types_pb2.Collection:
    message = types_pb2.Collection(
        name=collection.name,
        model=collection.model,
        dimension=collection.dimension,
        metric=collection.metric,
        segments=segments_to_proto(collection.segments),
    )
    _set_time(message.create_time, collection.create_time)
    return message


def collection_from_proto(message: types_pb2.Collection) -> domain.Collection:
    return domain.Collection(
        name=message.name,
        model=message.model,
        dimension=message.dimension,
        metric=message.metric or "COSINE",
        segments=segments_from_proto(message.segments),
        create_time=_get_time(message, "create_time"),
    )


def filter_to_proto(search_filter: domain.SearchFilter) -> types_pb2.SearchFilter:
    return types_pb2.SearchFilter(
        speakers=list(search_filter.speakers),
        sound_classes=list(search_filter.sound_classes),
        tags_any=list(search_filter.tags_any),
        min_duration_seconds=search_filter.min_duration_seconds,
        max_duration_seconds=search_filter.max_duration_seconds,
    )


def filter_from_proto(message: types_pb2.SearchFilter) -> domain.SearchFilter:
    return domain.SearchFilter(
        speakers=tuple(message.speakers),
        sound_classes=tuple(message.sound_classes),
        tags_any=tuple(message.tags_any),
        min_duration_seconds=message.min_duration_seconds,
        max_duration_seconds=message.max_duration_seconds,
    )


def model_to_proto(model: domain.ModelInfo) -> types_pb2.ModelInfo:
    return types_pb2.ModelInfo(**dataclasses.asdict(model))


def model_from_proto(message: types_pb2.ModelInfo) -> domain.ModelInfo:
    return domain.ModelInfo(
        name=message.name,
        dimension=message.dimension,
        sample_rate=message.sample_rate,
        metric=message.metric,
        min_duration_seconds=message.min_duration_seconds,
        available=message.available,
        unavailable_reason=message.unavailable_reason,
        description=message.description,
    )
