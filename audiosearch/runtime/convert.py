"""proto <-> domain conversions, both directions of each message side by side (the one place they are written):
the shared audiosearch.type.v1 messages, then those of each internal API (embedding, search), used by the service
that answers and by the gateway's client that calls it."""

import dataclasses
from collections.abc import Sequence
from datetime import UTC

from audiosearch.embedding.v1 import embedding_service_pb2 as embedding_pb2
from audiosearch.runtime import domain
from audiosearch.search.v1 import search_service_pb2 as search_pb2
from audiosearch.type.v1 import types_pb2

_STATE_TO_PROTO: dict[domain.ClipState, types_pb2.ClipState] = {
    domain.ClipState.PENDING: types_pb2.CLIP_STATE_PENDING,
    domain.ClipState.READY: types_pb2.CLIP_STATE_READY,
    domain.ClipState.FAILED: types_pb2.CLIP_STATE_FAILED,
    domain.ClipState.DELETING: types_pb2.CLIP_STATE_DELETING,
}
_STATE_FROM_PROTO: dict[int, domain.ClipState] = {value: key for key, value in _STATE_TO_PROTO.items()}


def enum_name(enum, value: int, prefix: str) -> str:
    """The name of an enum value without its prefix; '' when unspecified, and a number this build does not know
    stays a number, for the rules to refuse with a reason."""
    if value not in enum.values():
        return str(value)
    name = enum.Name(value).removeprefix(prefix)
    return "" if name == "UNSPECIFIED" else name


def metric_to_proto(metric: str) -> types_pb2.Metric:
    return types_pb2.Metric.Value(f"METRIC_{metric}") if metric else types_pb2.METRIC_UNSPECIFIED


def metric_from_proto(value: int) -> str:
    return enum_name(types_pb2.Metric, value, "METRIC_")


def index_type_to_proto(index_type: str) -> types_pb2.IndexType:
    return types_pb2.IndexType.Value(f"INDEX_TYPE_{index_type}") if index_type else types_pb2.INDEX_TYPE_UNSPECIFIED


def index_type_from_proto(value: int) -> str:
    return enum_name(types_pb2.IndexType, value, "INDEX_TYPE_")


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
        speech_seconds=audio.speech_seconds,
    )


def audio_from_proto(message: types_pb2.AudioInfo) -> domain.AudioInfo:
    return domain.AudioInfo(
        duration_seconds=message.duration_seconds,
        sample_rate=message.sample_rate,
        channels=message.channels,
        format=message.format,
        speech_seconds=message.speech_seconds,
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
        audio_kept=clip.audio_kept,
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
        audio_kept=message.audio_kept,
    )


def audio_blob_to_proto(blob: domain.AudioBlob) -> types_pb2.AudioBlob:
    return types_pb2.AudioBlob(
        sha256=blob.sha256,
        size_bytes=blob.size_bytes,
        format=blob.format,
        content_type=blob.content_type,
        start_seconds=blob.start_seconds,
        end_seconds=blob.end_seconds,
    )


def audio_blob_from_proto(message: types_pb2.AudioBlob) -> domain.AudioBlob:
    return domain.AudioBlob(
        sha256=message.sha256,
        size_bytes=message.size_bytes,
        format=message.format,
        start_seconds=message.start_seconds,
        end_seconds=message.end_seconds,
    )


def purpose_to_proto(purpose: str) -> types_pb2.Purpose:
    return types_pb2.Purpose.Value(f"PURPOSE_{purpose}") if purpose else types_pb2.PURPOSE_UNSPECIFIED


def purpose_from_proto(value: int) -> str:
    return enum_name(types_pb2.Purpose, value, "PURPOSE_")


def calibration_to_proto(calibration: domain.Calibration) -> types_pb2.Calibration:
    fields = dataclasses.asdict(calibration)
    fields.pop("calibrate_time")
    message = types_pb2.Calibration(**fields)
    _set_time(message.calibrate_time, calibration.calibrate_time)
    return message


def calibration_from_proto(message: types_pb2.Calibration) -> domain.Calibration:
    return domain.Calibration(
        threshold=message.threshold,
        target_false_positive_rate=message.target_false_positive_rate,
        false_positive_rate=message.false_positive_rate,
        false_negative_rate=message.false_negative_rate,
        equal_error_rate=message.equal_error_rate,
        equal_error_threshold=message.equal_error_threshold,
        positive_trials=message.positive_trials,
        negative_trials=message.negative_trials,
        scoring=message.scoring,
        calibrate_time=_get_time(message, "calibrate_time"),
        open_set_threshold=message.open_set_threshold,
        open_set_false_positive_rate=message.open_set_false_positive_rate,
        open_set_trials=message.open_set_trials,
    )


def collection_to_proto(collection: domain.Collection) -> types_pb2.Collection:
    message = types_pb2.Collection(
        name=collection.name,
        model=collection.model,
        dimension=collection.dimension,
        metric=metric_to_proto(collection.metric),
        segments=segments_to_proto(collection.segments),
        purpose=purpose_to_proto(collection.purpose),
        calibration=calibration_to_proto(collection.calibration) if collection.calibration else None,
        keep_audio=collection.keep_audio,
    )
    _set_time(message.create_time, collection.create_time)
    return message


def collection_from_proto(message: types_pb2.Collection) -> domain.Collection:
    return domain.Collection(
        name=message.name,
        model=message.model,
        dimension=message.dimension,
        metric=metric_from_proto(message.metric) or "COSINE",
        segments=segments_from_proto(message.segments),
        create_time=_get_time(message, "create_time"),
        purpose=purpose_from_proto(message.purpose),
        calibration=calibration_from_proto(message.calibration) if message.HasField("calibration") else None,
        keep_audio=message.keep_audio,
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
    return types_pb2.ModelInfo(**{**dataclasses.asdict(model), "metric": metric_to_proto(model.metric)})


def model_from_proto(message: types_pb2.ModelInfo) -> domain.ModelInfo:
    return domain.ModelInfo(
        name=message.name,
        dimension=message.dimension,
        sample_rate=message.sample_rate,
        metric=metric_from_proto(message.metric),
        min_duration_seconds=message.min_duration_seconds,
        available=message.available,
        unavailable_reason=message.unavailable_reason,
        description=message.description,
    )


# --- audiosearch.embedding.v1 (EmbeddingService: encoded by its servicer, decoded by gateway/clients.py)


def embed_options_to_proto(model: str, segments: domain.SegmentOptions) -> embedding_pb2.EmbedOptions:
    return embedding_pb2.EmbedOptions(model=model, segments=segments_to_proto(segments))


def embed_options_from_proto(message: embedding_pb2.EmbedOptions) -> tuple[str, domain.SegmentOptions]:
    """The model's name and how to cut the audio."""
    return message.model, segments_from_proto(message.segments)


def embedding_to_proto(segment: domain.Segment) -> embedding_pb2.Embedding:
    return embedding_pb2.Embedding(
        vector=segment.vector, start_seconds=segment.start_seconds, end_seconds=segment.end_seconds
    )


def embedding_from_proto(message: embedding_pb2.Embedding) -> domain.Segment:
    # The repeated field itself, not a copy: it is only read again to encode the search service's Upsert.
    return domain.Segment(message.vector, message.start_seconds, message.end_seconds)


def embed_response_to_proto(
    model: str, audio: domain.AudioInfo, segments: Sequence[domain.Segment]
) -> embedding_pb2.EmbedAudioResponse:
    return embedding_pb2.EmbedAudioResponse(
        model=model, audio=audio_to_proto(audio), embeddings=[embedding_to_proto(segment) for segment in segments]
    )


def embed_response_from_proto(
    message: embedding_pb2.EmbedAudioResponse,
) -> tuple[domain.AudioInfo, list[domain.Segment]]:
    """The audio's facts and its segments: one, or one per window."""
    return audio_from_proto(message.audio), [embedding_from_proto(item) for item in message.embeddings]


# --- audiosearch.search.v1 (SearchService: decoded/encoded by its servicer and by gateway/clients.py)


def vector_to_proto(vector: domain.Vector) -> search_pb2.Vector:
    return search_pb2.Vector(values=vector)


def vector_from_proto(message: search_pb2.Vector) -> Sequence[float]:
    """The repeated field itself (a read-only sequence), not a copy."""
    return message.values


def segment_to_proto(segment: domain.Segment) -> search_pb2.Segment:
    return search_pb2.Segment(
        vector=vector_to_proto(segment.vector), start_seconds=segment.start_seconds, end_seconds=segment.end_seconds
    )


def segment_from_proto(message: search_pb2.Segment) -> domain.Segment:
    return domain.Segment(vector_from_proto(message.vector), message.start_seconds, message.end_seconds)


def clip_vectors_to_proto(clip: domain.ClipVectors) -> search_pb2.ClipVectors:
    return search_pb2.ClipVectors(
        clip_id=clip.clip_id,
        labels=labels_to_proto(clip.labels),
        duration_seconds=clip.duration_seconds,
        segments=[segment_to_proto(segment) for segment in clip.segments],
    )


def clip_vectors_from_proto(message: search_pb2.ClipVectors) -> domain.ClipVectors:
    return domain.ClipVectors(
        message.clip_id,
        labels_from_proto(message.labels),
        message.duration_seconds,
        [segment_from_proto(segment) for segment in message.segments],
    )


def hit_to_proto(hit: domain.Hit) -> search_pb2.Hit:
    return search_pb2.Hit(
        clip_id=hit.clip_id, score=hit.score, start_seconds=hit.start_seconds, end_seconds=hit.end_seconds
    )


def hit_from_proto(message: search_pb2.Hit) -> domain.Hit:
    return domain.Hit(message.clip_id, message.score, message.start_seconds, message.end_seconds)


def speaker_row_to_proto(row: domain.SpeakerRow) -> search_pb2.SpeakerRow:
    return search_pb2.SpeakerRow(
        speaker_id=row.speaker_id,
        vector=vector_to_proto(row.vector),
        cohort_mean=row.cohort_mean,
        cohort_std=row.cohort_std,
    )


def speaker_row_from_proto(message: search_pb2.SpeakerRow) -> domain.SpeakerRow:
    return domain.SpeakerRow(
        message.speaker_id, vector_from_proto(message.vector), message.cohort_mean, message.cohort_std
    )


def speaker_hits_to_proto(results: Sequence[Sequence[domain.SpeakerHit]]) -> search_pb2.SearchSpeakersResponse:
    return search_pb2.SearchSpeakersResponse(
        results=[
            search_pb2.SpeakerHits(
                hits=[
                    search_pb2.SpeakerHit(
                        speaker_id=hit.speaker_id,
                        score=hit.score,
                        cohort_mean=hit.cohort_mean,
                        cohort_std=hit.cohort_std,
                    )
                    for hit in hits
                ]
            )
            for hits in results
        ]
    )


def speaker_hits_from_proto(message: search_pb2.SearchSpeakersResponse) -> list[list[domain.SpeakerHit]]:
    """One list of speakers per query vector, in the order sent."""
    return [
        [domain.SpeakerHit(hit.speaker_id, hit.score, hit.cohort_mean, hit.cohort_std) for hit in result.hits]
        for result in message.results
    ]


def search_request_to_proto(
    collection: str,
    vectors: Sequence[domain.Vector],
    top_k: int,
    search_filter: domain.SearchFilter,
    exclude_clip_ids: Sequence[int],
    search_breadth: int,
) -> search_pb2.SearchRequest:
    return search_pb2.SearchRequest(
        collection=collection,
        queries=[vector_to_proto(vector) for vector in vectors],
        top_k=top_k,
        filter=filter_to_proto(search_filter),
        exclude_clip_ids=exclude_clip_ids,
        search_breadth=search_breadth,
    )


def search_request_from_proto(
    message: search_pb2.SearchRequest,
) -> tuple[str, list[Sequence[float]], int, domain.SearchFilter, Sequence[int], int]:
    """(collection, vectors, top_k, search_filter, exclude_clip_ids, search_breadth): SearchCore.search's arguments,
    in its order."""
    return (
        message.collection,
        [vector_from_proto(query) for query in message.queries],
        message.top_k,
        filter_from_proto(message.filter),
        message.exclude_clip_ids,
        message.search_breadth,
    )


def search_response_to_proto(results: Sequence[Sequence[domain.Hit]]) -> search_pb2.SearchResponse:
    return search_pb2.SearchResponse(
        results=[search_pb2.QueryResult(hits=[hit_to_proto(hit) for hit in hits]) for hits in results]
    )


def search_response_from_proto(message: search_pb2.SearchResponse) -> list[list[domain.Hit]]:
    """One list of hits per query vector, in the order sent."""
    return [[hit_from_proto(hit) for hit in result.hits] for result in message.results]
