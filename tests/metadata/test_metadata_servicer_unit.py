"""MetadataServicer without sockets: grpc_testing calls it, the real core stores on a SQLite file.

Errors pass through the servers' ErrorMappingInterceptor (see grpc_testing_support), so a failure is checked as the
caller sees it: status code and ErrorInfo reason.
"""

import hashlib
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from audiosearch.metadata.v1 import metadata_service_pb2 as pb2
from audiosearch.type.v1 import types_pb2
from metadata_service.blobs import FileBlobs
from metadata_service.config import MetadataSettings
from metadata_service.core import MetadataCore
from metadata_service.servicer import MetadataServicer
from metadata_service.store import open_store

from grpc_testing_support import ServicerCalls

SERVICE = pb2.DESCRIPTOR.services_by_name["MetadataService"]
OK = grpc.StatusCode.OK


@pytest.fixture
def calls(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/metadata.db")
    core = MetadataCore(store, FileBlobs(tmp_path / "audio"))
    yield ServicerCalls(SERVICE, MetadataServicer(core, MetadataSettings().max_audio_bytes))
    store.close()


def sha256(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def create_collection(calls, name="speakers", **fields) -> types_pb2.Collection:
    fields = {"model": "ecapa_tdnn", "dimension": 192, **fields}
    outcome = calls.unary(
        "CreateCollection", pb2.CreateCollectionRequest(collection=types_pb2.Collection(name=name, **fields))
    )
    assert outcome.code is OK, outcome.details
    return outcome.response


def create_clip(calls, seed, collection="speakers", request_id="", **fields) -> pb2.CreateClipResponse:
    clip = types_pb2.Clip(collection=collection, content_sha256=sha256(seed), **fields)
    outcome = calls.unary("CreateClip", pb2.CreateClipRequest(clip=clip, request_id=request_id))
    assert outcome.code is OK, outcome.details
    return outcome.response


def recent(timestamp) -> bool:
    return abs(timestamp.ToDatetime(tzinfo=UTC) - datetime.now(UTC)) < timedelta(minutes=1)


def test_create_and_get_collection_map_every_field(calls):
    segments = types_pb2.SegmentOptions(window_seconds=2.0, hop_seconds=0.5)
    created = create_collection(
        calls, "songs", model="panns_cnn14", dimension=2048, metric=types_pb2.METRIC_IP, segments=segments
    )
    assert (created.name, created.model, created.dimension, created.metric) == (
        "songs",
        "panns_cnn14",
        2048,
        types_pb2.METRIC_IP,
    )
    assert (created.segments.window_seconds, created.segments.hop_seconds) == (2.0, 0.5)
    assert created.HasField("create_time") and recent(created.create_time)
    got = calls.unary("GetCollection", pb2.GetCollectionRequest(name="songs"))
    assert got.code is OK and got.response == created


def test_an_empty_metric_becomes_cosine(calls):
    assert create_collection(calls, metric=types_pb2.METRIC_UNSPECIFIED).metric == types_pb2.METRIC_COSINE


def test_collection_errors_carry_code_and_reason(calls):
    create_collection(calls)
    again = calls.unary(
        "CreateCollection",
        pb2.CreateCollectionRequest(collection=types_pb2.Collection(name="speakers", model="m", dimension=3)),
    )
    assert again.failure == (grpc.StatusCode.ALREADY_EXISTS, "COLLECTION_EXISTS")
    assert again.error_info.metadata["collection"] == "speakers"
    missing = calls.unary("GetCollection", pb2.GetCollectionRequest(name="nobody"))
    assert missing.failure == (grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND")
    bad_name = calls.unary("GetCollection", pb2.GetCollectionRequest(name="1st"))
    assert bad_name.failure == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_COLLECTION_NAME")
    assert "1st" in bad_name.details


def test_list_collections_pages_by_token(calls):
    for name in ("b_coll", "a_coll", "c_coll"):
        create_collection(calls, name)
    first = calls.unary("ListCollections", pb2.ListCollectionsRequest(page_size=2)).response
    assert [c.name for c in first.collections] == ["a_coll", "b_coll"] and first.next_page_token
    rest = calls.unary(
        "ListCollections", pb2.ListCollectionsRequest(page_size=2, page_token=first.next_page_token)
    ).response
    assert [c.name for c in rest.collections] == ["c_coll"] and rest.next_page_token == ""
    forged = calls.unary("ListCollections", pb2.ListCollectionsRequest(page_token="not-a-token"))
    assert forged.failure == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")


def test_delete_collection_counts_its_clips(calls):
    create_collection(calls)
    create_clip(calls, "one")
    create_clip(calls, "two")
    deleted = calls.unary("DeleteCollection", pb2.DeleteCollectionRequest(name="speakers"))
    assert deleted.code is OK and deleted.response.deleted_clips == 2
    twice = calls.unary("DeleteCollection", pb2.DeleteCollectionRequest(name="speakers"))
    assert twice.failure == (grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND")


def test_create_clip_maps_every_field_and_dedupes(calls):
    create_collection(calls)
    labels = types_pb2.Labels(speaker="alice", sound_class="speech", tags=["studio", "en"])
    audio = types_pb2.AudioInfo(duration_seconds=2.5, sample_rate=44100, channels=2, format="flac")
    created = create_clip(calls, "hello", source="hello.flac", labels=labels, audio=audio, request_id="r1")
    clip = created.clip
    assert created.created and clip.id > 0
    assert (clip.collection, clip.content_sha256, clip.source) == ("speakers", sha256("hello"), "hello.flac")
    assert clip.labels == labels and list(clip.labels.tags) == ["studio", "en"]
    assert clip.audio == audio
    assert clip.state == types_pb2.CLIP_STATE_PENDING
    assert recent(clip.create_time) and recent(clip.update_time)
    same = create_clip(calls, "hello", request_id="r1")
    assert not same.created and same.clip.id == clip.id


def test_a_reused_request_id_is_refused(calls):
    create_collection(calls)
    create_clip(calls, "first", request_id="upload-1")
    other = types_pb2.Clip(collection="speakers", content_sha256=sha256("second"))
    outcome = calls.unary("CreateClip", pb2.CreateClipRequest(clip=other, request_id="upload-1"))
    assert outcome.failure == (grpc.StatusCode.FAILED_PRECONDITION, "REQUEST_ID_REUSED")


def test_get_clip_and_batch_get_clips(calls):
    create_collection(calls)
    first = create_clip(calls, "a").clip
    second = create_clip(calls, "b").clip
    got = calls.unary("GetClip", pb2.GetClipRequest(id=second.id))
    assert got.code is OK and got.response == second
    batch = calls.unary("BatchGetClips", pb2.BatchGetClipsRequest(ids=[second.id, 999_999, first.id])).response
    assert [clip.id for clip in batch.clips] == [second.id, first.id]  # order asked, unknown ids left out
    missing = calls.unary("GetClip", pb2.GetClipRequest(id=999_999))
    assert missing.failure == (grpc.StatusCode.NOT_FOUND, "CLIP_NOT_FOUND")
    assert missing.error_info.metadata["clip_id"] == "999999"


def test_list_clips_filters_by_state_enum_and_labels(calls):
    create_collection(calls)
    alice = create_clip(calls, "a", labels=types_pb2.Labels(speaker="alice")).clip
    bob = create_clip(calls, "b", labels=types_pb2.Labels(speaker="bob")).clip
    ready = create_clip(calls, "c", labels=types_pb2.Labels(speaker="alice")).clip
    calls.unary("UpdateClipState", pb2.UpdateClipStateRequest(id=ready.id, state=types_pb2.CLIP_STATE_READY))

    def listed(**fields) -> list[int]:
        outcome = calls.unary("ListClips", pb2.ListClipsRequest(collection="speakers", **fields))
        assert outcome.code is OK, outcome.details
        return [clip.id for clip in outcome.response.clips]

    assert listed() == [alice.id, bob.id, ready.id]
    assert listed(state=types_pb2.CLIP_STATE_READY) == [ready.id]
    assert listed(state=types_pb2.CLIP_STATE_PENDING) == [alice.id, bob.id]
    assert listed(filter=types_pb2.SearchFilter(speakers=["alice"])) == [alice.id, ready.id]
    assert listed(filter=types_pb2.SearchFilter(speakers=["alice"]), state=types_pb2.CLIP_STATE_PENDING) == [alice.id]
    page = calls.unary("ListClips", pb2.ListClipsRequest(collection="speakers", page_size=2)).response
    assert len(page.clips) == 2 and page.next_page_token


def test_find_by_content_hash(calls):
    create_collection(calls)
    clip = create_clip(calls, "needle").clip
    found = calls.unary(
        "FindByContentHash", pb2.FindByContentHashRequest(collection="speakers", content_sha256=sha256("needle"))
    )
    assert found.code is OK and found.response.id == clip.id
    absent = calls.unary(
        "FindByContentHash", pb2.FindByContentHashRequest(collection="speakers", content_sha256=sha256("hay"))
    )
    assert absent.failure == (grpc.StatusCode.NOT_FOUND, "CLIP_NOT_FOUND")
    not_a_hash = calls.unary(
        "FindByContentHash", pb2.FindByContentHashRequest(collection="speakers", content_sha256="ABC")
    )
    assert not_a_hash.failure == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CONTENT_SHA256")


def test_update_clip_state_maps_the_enum_and_the_optional_fields(calls):
    create_collection(calls)
    audio = types_pb2.AudioInfo(duration_seconds=1.0, sample_rate=16000, channels=1, format="wav")
    clip = create_clip(calls, "x", audio=audio).clip
    better = types_pb2.AudioInfo(duration_seconds=1.25, sample_rate=48000, channels=2, format="ogg")
    ready = calls.unary(
        "UpdateClipState",
        pb2.UpdateClipStateRequest(id=clip.id, state=types_pb2.CLIP_STATE_READY, audio=better, segment_count=4),
    ).response
    assert ready.state == types_pb2.CLIP_STATE_READY and ready.audio == better and ready.segment_count == 4
    # No audio and segment_count 0: both "not given", so the stored ones stay.
    deleting = calls.unary(
        "UpdateClipState", pb2.UpdateClipStateRequest(id=clip.id, state=types_pb2.CLIP_STATE_DELETING)
    ).response
    assert deleting.state == types_pb2.CLIP_STATE_DELETING
    assert deleting.audio == better and deleting.segment_count == 4


def test_update_clip_state_errors(calls):
    create_collection(calls)
    clip = create_clip(calls, "x").clip
    unspecified = calls.unary("UpdateClipState", pb2.UpdateClipStateRequest(id=clip.id))
    assert unspecified.failure == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")
    assert "state is required" in unspecified.details
    missing = calls.unary(
        "UpdateClipState", pb2.UpdateClipStateRequest(id=clip.id + 100, state=types_pb2.CLIP_STATE_READY)
    )
    assert missing.failure == (grpc.StatusCode.NOT_FOUND, "CLIP_NOT_FOUND")


def test_delete_clip_is_idempotent(calls):
    create_collection(calls)
    clip = create_clip(calls, "x").clip
    assert calls.unary("DeleteClip", pb2.DeleteClipRequest(id=clip.id)).response.deleted is True
    again = calls.unary("DeleteClip", pb2.DeleteClipRequest(id=clip.id))
    assert again.code is OK and again.response.deleted is False
    assert calls.unary("GetClip", pb2.GetClipRequest(id=clip.id)).code is grpc.StatusCode.NOT_FOUND


def test_count_clips_names_every_state(calls):
    create_collection(calls)
    create_clip(calls, "a")
    failed = create_clip(calls, "b").clip
    calls.unary("UpdateClipState", pb2.UpdateClipStateRequest(id=failed.id, state=types_pb2.CLIP_STATE_FAILED))
    counts = calls.unary("CountClips", pb2.CountClipsRequest(collection="speakers")).response
    assert dict(counts.by_state) == {"PENDING": 1, "READY": 0, "FAILED": 1, "DELETING": 0}
    missing = calls.unary("CountClips", pb2.CountClipsRequest(collection="nobody"))
    assert missing.failure == (grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND")
