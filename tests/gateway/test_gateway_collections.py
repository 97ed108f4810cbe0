"""Collections through the public API: create bound to a model, list, drop; and what is refused."""

import grpc

from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.type.v1 import types_pb2

from gateway_support import TIMEOUT, audio_file, ingest, rpc_error


def listed(gateway) -> dict[str, object]:
    collections, token = {}, ""
    while True:
        response = gateway.ListCollections(pb2.ListCollectionsRequest(page_size=2, page_token=token), timeout=TIMEOUT)
        collections.update({collection.name: collection for collection in response.collections})
        token = response.next_page_token
        if not token:
            return collections


def test_list_models_names_logmel_with_its_dimension(gateway):
    models = {model.name: model for model in gateway.ListModels(pb2.ListModelsRequest(), timeout=TIMEOUT).models}
    assert models["logmel"].available
    assert models["logmel"].dimension == 192
    assert models["logmel"].sample_rate == 16000


def test_create_list_and_drop_a_collection(gateway):
    created = gateway.CreateCollection(pb2.CreateCollectionRequest(name="songs", model="logmel"), timeout=TIMEOUT)
    assert (created.name, created.model, created.dimension, created.metric) == (
        "songs",
        "logmel",
        192,
        types_pb2.METRIC_COSINE,
    )
    assert created.HasField("create_time")
    assert listed(gateway)["songs"].model == "logmel"
    ingest(gateway, "songs", audio_file("tone", 1))
    ingest(gateway, "songs", audio_file("siren", 1))

    dropped = gateway.DropCollection(pb2.DropCollectionRequest(name="songs"), timeout=TIMEOUT)

    assert dropped.deleted_clips == 2
    assert "songs" not in listed(gateway)
    assert "songs" not in {row.name for row in gateway.GetStats(pb2.GetStatsRequest(), timeout=TIMEOUT).collections}
    # The name is free again, and the new collection starts empty (no vectors left from the dropped one).
    gateway.CreateCollection(pb2.CreateCollectionRequest(name="songs", model="logmel"), timeout=TIMEOUT)
    row = {row.name: row for row in gateway.GetStats(pb2.GetStatsRequest(), timeout=TIMEOUT).collections}["songs"]
    assert (row.ready_clips, row.vectors) == (0, 0)
    gateway.DropCollection(pb2.DropCollectionRequest(name="songs"), timeout=TIMEOUT)


def test_segmented_collection_keeps_its_windows(gateway):
    request = pb2.CreateCollectionRequest(name="recordings", model="logmel")
    request.segments.window_seconds, request.segments.hop_seconds = 1.0, 0.5
    created = gateway.CreateCollection(request, timeout=TIMEOUT)
    assert (created.segments.window_seconds, created.segments.hop_seconds) == (1.0, 0.5)
    clip = ingest(gateway, "recordings", audio_file("chirp", 3, duration_seconds=3.0)).clip
    assert clip.segment_count > 1
    gateway.DropCollection(pb2.DropCollectionRequest(name="recordings"), timeout=TIMEOUT)


def test_unknown_model_is_not_found_and_creates_nothing(gateway):
    with rpc_error(grpc.StatusCode.NOT_FOUND, "UNKNOWN_MODEL") as raised:
        gateway.CreateCollection(pb2.CreateCollectionRequest(name="nomodel", model="wav2vec9"), timeout=TIMEOUT)
    assert "logmel" in raised.value.details()  # says which models exist
    assert "nomodel" not in listed(gateway)


def test_missing_model_is_invalid(gateway):
    with rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "MODEL_REQUIRED"):
        gateway.CreateCollection(pb2.CreateCollectionRequest(name="nomodel"), timeout=TIMEOUT)


def test_duplicate_name_already_exists(gateway, new_collection):
    name = new_collection()
    with rpc_error(grpc.StatusCode.ALREADY_EXISTS, "COLLECTION_EXISTS"):
        gateway.CreateCollection(pb2.CreateCollectionRequest(name=name, model="logmel"), timeout=TIMEOUT)
    assert listed(gateway)[name].model == "logmel"


def test_bad_names_are_invalid_and_create_nothing(gateway):
    for name in ("", "9lives", "has space", "dash-ed", "x" * 65, 'quote"d'):
        with rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_COLLECTION_NAME"):
            gateway.CreateCollection(pb2.CreateCollectionRequest(name=name, model="logmel"), timeout=TIMEOUT)
    assert not [name for name in listed(gateway) if not name.isidentifier()]


def test_bad_index_type_and_segments_are_invalid(gateway):
    with rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_INDEX_TYPE"):
        gateway.CreateCollection(
            pb2.CreateCollectionRequest(name="badindex", model="logmel", index_type=99), timeout=TIMEOUT
        )
    request = pb2.CreateCollectionRequest(name="badwindows", model="logmel")
    request.segments.window_seconds, request.segments.hop_seconds = 1.0, 2.0
    with rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_SEGMENTS"):
        gateway.CreateCollection(request, timeout=TIMEOUT)
    assert not {"badindex", "badwindows"} & set(listed(gateway))


def test_drop_unknown_collection_is_not_found(gateway):
    with rpc_error(grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND"):
        gateway.DropCollection(pb2.DropCollectionRequest(name="never_made"), timeout=TIMEOUT)
