"""SearchService over the real wire: generated stub -> server on port 0 -> core -> Milvus Lite."""

import grpc
import pytest

from audiosearch.sdk.rpc_errors import error_info
from audiosearch.search.v1 import search_service_pb2 as pb2
from audiosearch.search.v1 import search_service_pb2_grpc as pb2_grpc
from audiosearch.type.v1 import types_pb2
from search_service.config import SearchSettings
from search_service.server import build_server

from search_data import DIMENSION, unit_vector


@pytest.fixture(scope="module")
def stub(core):
    running = build_server(SearchSettings(listen="127.0.0.1:0"), core)
    running.server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    yield pb2_grpc.SearchServiceStub(channel)
    channel.close()
    running.stop(0)


@pytest.fixture(scope="module")
def collection(stub) -> str:
    assert stub.EnsureCollection(pb2.EnsureCollectionRequest(collection="wire", dimension=DIMENSION)).created
    stub.Upsert(
        pb2.UpsertRequest(
            collection="wire",
            clips=[
                pb2.ClipVectors(
                    clip_id=clip_id,
                    labels=types_pb2.Labels(speaker=f"speaker{clip_id}", tags=["even"] if clip_id % 2 == 0 else []),
                    duration_seconds=4.0,
                    segments=[
                        pb2.Segment(
                            vector=pb2.Vector(values=unit_vector(clip_id * 10)), start_seconds=0, end_seconds=2
                        ),
                        pb2.Segment(
                            vector=pb2.Vector(values=unit_vector(clip_id * 10 + 1)), start_seconds=2, end_seconds=4
                        ),
                    ],
                )
                for clip_id in range(1, 5)
            ],
        )
    )
    return "wire"


def search(stub, collection: str, vector: list[float], top_k: int = 3, **fields) -> pb2.SearchResponse:
    request = pb2.SearchRequest(collection=collection, queries=[pb2.Vector(values=vector)], top_k=top_k, **fields)
    return stub.Search(request)


def test_search_returns_the_clip_and_its_window(stub, collection):
    [result] = search(stub, collection, unit_vector(31)).results
    assert (result.hits[0].clip_id, result.hits[0].start_seconds, result.hits[0].end_seconds) == (3, 2.0, 4.0)
    assert result.hits[0].score == pytest.approx(1.0, abs=1e-5)


def test_filter_and_exclusions_travel(stub, collection):
    response = search(
        stub, collection, unit_vector(20), filter=types_pb2.SearchFilter(tags_any=["even"]), exclude_clip_ids=[2]
    )
    assert [hit.clip_id for hit in response.results[0].hits] == [4]


def test_count_get_vectors_and_ensure_again(stub, collection):
    count = stub.Count(pb2.CountRequest(collection=collection))
    assert (count.vectors, count.clips) == (8, 4)
    segments = stub.GetVectors(pb2.GetVectorsRequest(collection=collection, clip_id=2)).segments
    assert [segment.end_seconds for segment in segments] == [2.0, 4.0]
    assert list(segments[0].vector.values) == pytest.approx(unit_vector(20), abs=1e-6)
    again = stub.EnsureCollection(pb2.EnsureCollectionRequest(collection=collection, dimension=DIMENSION))
    assert not again.created


def test_delete_then_drop(stub):
    stub.EnsureCollection(
        pb2.EnsureCollectionRequest(collection="wire_drop", dimension=DIMENSION, metric=types_pb2.METRIC_IP)
    )
    segment = pb2.Segment(vector=pb2.Vector(values=unit_vector(1)))
    upserted = stub.Upsert(
        pb2.UpsertRequest(collection="wire_drop", clips=[pb2.ClipVectors(clip_id=9, segments=[segment])])
    )
    assert upserted.upserted_vectors == 1
    stub.Delete(pb2.DeleteRequest(collection="wire_drop", clip_ids=[9]))
    assert stub.Count(pb2.CountRequest(collection="wire_drop")).vectors == 0
    assert stub.DropCollection(pb2.DropCollectionRequest(collection="wire_drop")).dropped
    assert not stub.DropCollection(pb2.DropCollectionRequest(collection="wire_drop")).dropped


@pytest.mark.parametrize(
    ("call", "code", "reason"),
    [
        (lambda stub: search(stub, "wire", unit_vector(1, DIMENSION + 3)), "INVALID_ARGUMENT", "DIMENSION_MISMATCH"),
        (lambda stub: search(stub, "wire", unit_vector(1), top_k=0), "INVALID_ARGUMENT", "INVALID_TOP_K"),
        (lambda stub: search(stub, "nowhere", unit_vector(1)), "NOT_FOUND", "COLLECTION_NOT_FOUND"),
        (
            lambda stub: stub.EnsureCollection(pb2.EnsureCollectionRequest(collection="wire", dimension=3)),
            "FAILED_PRECONDITION",
            "COLLECTION_SPEC_MISMATCH",
        ),
        (
            lambda stub: stub.EnsureCollection(pb2.EnsureCollectionRequest(collection="x", dimension=3, metric=99)),
            "INVALID_ARGUMENT",
            "INVALID_METRIC",
        ),
        (
            lambda stub: stub.GetVectors(pb2.GetVectorsRequest(collection="wire", clip_id=404)),
            "NOT_FOUND",
            "CLIP_VECTORS_NOT_FOUND",
        ),
    ],
)
def test_errors_carry_a_status_code_and_reason(stub, collection, call, code, reason):
    with pytest.raises(grpc.RpcError) as raised:
        call(stub)
    assert raised.value.code() == getattr(grpc.StatusCode, code)
    assert error_info(raised.value).reason == reason
