"""MetadataService over the real wire: a server on port 0 with a SQLite store, called with the generated stub."""

import hashlib

import grpc
import pytest

from audiosearch.metadata.v1 import metadata_service_pb2 as pb2
from audiosearch.metadata.v1 import metadata_service_pb2_grpc as pb2_grpc
from audiosearch.sdk.rpc_errors import error_info
from audiosearch.type.v1 import types_pb2
from metadata_service.blobs import FileBlobs
from metadata_service.config import MetadataSettings
from metadata_service.core import MetadataCore
from metadata_service.server import build_server
from metadata_service.store import open_store


@pytest.fixture
def stub(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/metadata.db")
    running = build_server(MetadataSettings(listen="127.0.0.1:0"), MetadataCore(store, FileBlobs(tmp_path / "audio")))
    running.server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    yield pb2_grpc.MetadataServiceStub(channel)
    channel.close()
    running.stop(0)
    store.close()


@pytest.fixture
def speakers(stub):
    stub.CreateCollection(
        pb2.CreateCollectionRequest(collection=types_pb2.Collection(name="speakers", model="ecapa_tdnn", dimension=192))
    )
    return "speakers"


def clip_message(collection, seed, **fields):
    return types_pb2.Clip(collection=collection, content_sha256=hashlib.sha256(seed.encode()).hexdigest(), **fields)


def assert_fails(call, request, code, reason):
    with pytest.raises(grpc.RpcError) as raised:
        call(request, timeout=5)
    assert raised.value.code() == code
    info = error_info(raised.value)
    assert info is not None and info.reason == reason
    return raised.value


def test_collection_lifecycle(stub, speakers):
    fetched = stub.GetCollection(pb2.GetCollectionRequest(name=speakers))
    assert (fetched.model, fetched.dimension, fetched.metric) == ("ecapa_tdnn", 192, types_pb2.METRIC_COSINE)
    assert fetched.HasField("create_time")

    listed = stub.ListCollections(pb2.ListCollectionsRequest())
    assert [collection.name for collection in listed.collections] == [speakers]

    stub.CreateClip(pb2.CreateClipRequest(clip=clip_message(speakers, "a")))
    assert stub.DeleteCollection(pb2.DeleteCollectionRequest(name=speakers)).deleted_clips == 1
    gone = pb2.GetCollectionRequest(name=speakers)
    assert_fails(stub.GetCollection, gone, grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND")


def test_duplicate_collection_is_already_exists(stub, speakers):
    request = pb2.CreateCollectionRequest(collection=types_pb2.Collection(name=speakers, model="m", dimension=4))
    error = assert_fails(stub.CreateCollection, request, grpc.StatusCode.ALREADY_EXISTS, "COLLECTION_EXISTS")
    assert speakers in error.details()


def test_invalid_arguments_are_invalid_argument(stub, speakers):
    bad_name = pb2.CreateCollectionRequest(collection=types_pb2.Collection(name="no spaces", model="m", dimension=4))
    assert_fails(stub.CreateCollection, bad_name, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_COLLECTION_NAME")
    bad_hash = pb2.CreateClipRequest(clip=types_pb2.Clip(collection=speakers, content_sha256="F" * 64))
    assert_fails(stub.CreateClip, bad_hash, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CONTENT_SHA256")
    bad_token = pb2.ListClipsRequest(collection=speakers, page_token="garbage")
    assert_fails(stub.ListClips, bad_token, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")
    no_state = pb2.UpdateClipStateRequest(id=1)
    assert_fails(stub.UpdateClipState, no_state, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")


def test_missing_things_are_not_found(stub, speakers):
    assert_fails(stub.GetClip, pb2.GetClipRequest(id=424242), grpc.StatusCode.NOT_FOUND, "CLIP_NOT_FOUND")
    missing_hash = pb2.FindByContentHashRequest(collection=speakers, content_sha256="0" * 64)
    assert_fails(stub.FindByContentHash, missing_hash, grpc.StatusCode.NOT_FOUND, "CLIP_NOT_FOUND")
    orphan = pb2.CreateClipRequest(clip=clip_message("nowhere", "a"))
    assert_fails(stub.CreateClip, orphan, grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND")
    no_collection = pb2.CountClipsRequest(collection="nowhere")
    assert_fails(stub.CountClips, no_collection, grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND")


def test_clip_lifecycle(stub, speakers):
    labels = types_pb2.Labels(speaker="alice", sound_class="speech", tags=["phone"])
    first = stub.CreateClip(pb2.CreateClipRequest(clip=clip_message(speakers, "a", labels=labels), request_id="r1"))
    retried = stub.CreateClip(pb2.CreateClipRequest(clip=clip_message(speakers, "a"), request_id="r1"))
    other = stub.CreateClip(pb2.CreateClipRequest(clip=clip_message(speakers, "b", source="b.wav")))
    assert (first.created, retried.created, other.created) == (True, False, True)
    assert retried.clip == first.clip and first.clip.state == types_pb2.CLIP_STATE_PENDING

    audio = types_pb2.AudioInfo(duration_seconds=2.5, sample_rate=16000, channels=1, format="wav")
    ready = stub.UpdateClipState(
        pb2.UpdateClipStateRequest(id=first.clip.id, state=types_pb2.CLIP_STATE_READY, audio=audio, segment_count=1)
    )
    assert (ready.state, ready.audio, ready.segment_count) == (types_pb2.CLIP_STATE_READY, audio, 1)

    phone = types_pb2.SearchFilter(tags_any=["phone"])
    by_tag = stub.ListClips(pb2.ListClipsRequest(collection=speakers, filter=phone))
    assert [clip.id for clip in by_tag.clips] == [first.clip.id]
    by_state = stub.ListClips(pb2.ListClipsRequest(collection=speakers, state=types_pb2.CLIP_STATE_PENDING))
    assert [clip.id for clip in by_state.clips] == [other.clip.id]
    assert (
        stub.FindByContentHash(
            pb2.FindByContentHashRequest(collection=speakers, content_sha256=other.clip.content_sha256)
        )
        == other.clip
    )

    batch = stub.BatchGetClips(pb2.BatchGetClipsRequest(ids=[other.clip.id, 999999, first.clip.id]))
    assert [clip.id for clip in batch.clips] == [other.clip.id, first.clip.id]
    counts = stub.CountClips(pb2.CountClipsRequest(collection=speakers)).by_state
    assert dict(counts) == {"PENDING": 1, "READY": 1, "FAILED": 0, "DELETING": 0}

    assert stub.DeleteClip(pb2.DeleteClipRequest(id=other.clip.id)).deleted is True
    assert stub.DeleteClip(pb2.DeleteClipRequest(id=other.clip.id)).deleted is False


def test_list_clips_pages_over_the_wire(stub, speakers):
    ids = {stub.CreateClip(pb2.CreateClipRequest(clip=clip_message(speakers, str(n)))).clip.id for n in range(7)}
    seen, token = [], ""
    while True:
        page = stub.ListClips(pb2.ListClipsRequest(collection=speakers, page_size=3, page_token=token))
        seen += [clip.id for clip in page.clips]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(ids)


def test_set_calibration_over_the_wire(stub, speakers):
    calibration = types_pb2.Calibration(
        threshold=0.7, target_false_positive_rate=0.01, false_positive_rate=0.01, negative_trials=100, scoring="max"
    )
    stored = stub.SetCalibration(pb2.SetCalibrationRequest(collection=speakers, calibration=calibration))
    assert stored.calibration.threshold == pytest.approx(0.7) and stored.calibration.HasField("calibrate_time")
    fetched = stub.GetCollection(pb2.GetCollectionRequest(name=speakers))
    assert fetched.calibration.scoring == "max"
    assert not stub.SetCalibration(pb2.SetCalibrationRequest(collection=speakers)).HasField("calibration")
    bad = pb2.SetCalibrationRequest(collection=speakers, calibration=types_pb2.Calibration(threshold=0.7))
    assert_fails(stub.SetCalibration, bad, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CALIBRATION")
    absent = pb2.SetCalibrationRequest(collection="absent", calibration=calibration)
    assert_fails(stub.SetCalibration, absent, grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND")
