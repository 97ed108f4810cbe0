"""SearchServicer without sockets: grpc_testing calls it, the real core works on an in-memory VectorStore.

The store is a fake because these tests are about what the servicer hands the core and returns (Milvus is covered by
test_search_servicer.py over the real wire). Errors pass through the servers' ErrorMappingInterceptor (see
grpc_testing_support), so a failure is checked as the caller sees it: status code and ErrorInfo reason.
"""

import grpc
import numpy as np
import pytest

from audiosearch.runtime import domain
from audiosearch.search.v1 import search_service_pb2 as pb2
from audiosearch.type.v1 import types_pb2
from search_service.core import SearchCore
from search_service.servicer import CLIP_IDS_PER_MESSAGE, SearchServicer
from search_service.vectors import ClipVectors, CollectionSpec, SegmentHit, VectorCount

from grpc_testing_support import ServicerCalls

SERVICE = pb2.DESCRIPTOR.services_by_name["SearchService"]
OK = grpc.StatusCode.OK


class MemoryVectors:
    """The VectorStore protocol over dicts; search answers with the hits a test plants and records what it got."""

    def __init__(self) -> None:
        self.specs: dict[str, CollectionSpec] = {}
        self.clips: dict[str, dict[int, ClipVectors]] = {}
        self.planted_hits: list[list[SegmentHit]] = []
        self.searches: list[dict] = []
        self.deleted: list[tuple[str, list[int]]] = []
        self.speakers: dict[str, dict[str, domain.SpeakerRow]] = {}

    def describe(self, collection):
        return self.specs.get(collection)

    def create(self, collection, spec):
        self.specs[collection] = spec
        self.clips[collection] = {}

    def drop(self, collection):
        self.clips.pop(collection, None)
        return self.specs.pop(collection, None) is not None

    def upsert(self, collection, clips):
        self.clips[collection].update({clip.clip_id: clip for clip in clips})

    def delete(self, collection, clip_ids):
        self.deleted.append((collection, list(clip_ids)))

    def search(self, collection, spec, queries, limit, expression, search_breadth):
        self.searches.append({"queries": queries, "limit": limit, "expression": expression, "breadth": search_breadth})
        return [list(hits) for hits in self.planted_hits[: len(queries)]]

    def count(self, collection):
        clips = self.clips[collection].values()
        return VectorCount(sum(len(clip.segments) for clip in clips), len(clips))

    def segments(self, collection, clip_id):
        clip = self.clips[collection].get(clip_id)
        return list(clip.segments) if clip else []

    def clip_ids(self, collection):
        return sorted(self.clips[collection])

    def upsert_speakers(self, collection, spec, rows):
        self.speakers.setdefault(collection, {}).update({row.speaker_id: row for row in rows})

    def delete_speakers(self, collection, speaker_ids):
        for speaker_id in speaker_ids:
            self.speakers.get(collection, {}).pop(speaker_id, None)

    def drop_speakers(self, collection):
        self.speakers.pop(collection, None)

    def search_speakers(self, collection, spec, queries, limit):
        def hits(query):
            found = [
                domain.SpeakerHit(row.speaker_id, float(np.dot(query, row.vector)), row.cohort_mean, row.cohort_std)
                for row in self.speakers.get(collection, {}).values()
            ]
            return sorted(found, key=lambda hit: -hit.score)[:limit]

        return [hits(query) for query in queries]

    def get_speakers(self, collection, speaker_ids):
        rows = self.speakers.get(collection, {})
        return [rows[speaker_id] for speaker_id in speaker_ids if speaker_id in rows]


@pytest.fixture
def store() -> MemoryVectors:
    return MemoryVectors()


@pytest.fixture
def calls(store) -> ServicerCalls:
    return ServicerCalls(SERVICE, SearchServicer(SearchCore(store)))


@pytest.fixture
def voices(calls) -> str:
    outcome = calls.unary("EnsureCollection", pb2.EnsureCollectionRequest(collection="voices", dimension=3))
    assert outcome.code is OK and outcome.response.created
    return "voices"


def segment(values, start=0.0, end=1.0) -> pb2.Segment:
    return pb2.Segment(vector=pb2.Vector(values=values), start_seconds=start, end_seconds=end)


def test_ensure_collection_passes_dimension_metric_and_index_type(calls, store):
    request = pb2.EnsureCollectionRequest(
        collection="songs", dimension=4, metric=types_pb2.METRIC_L2, index_type=types_pb2.INDEX_TYPE_IVF_FLAT
    )
    assert calls.unary("EnsureCollection", request).response.created is True
    assert store.specs["songs"] == CollectionSpec(4, "L2", "IVF_FLAT")
    again = calls.unary("EnsureCollection", request)
    assert again.code is OK and again.response.created is False


def test_ensure_collection_defaults_and_refusals(calls, store):
    calls.unary("EnsureCollection", pb2.EnsureCollectionRequest(collection="plain", dimension=8))
    assert store.specs["plain"] == CollectionSpec(8, "COSINE", "HNSW")  # "" means the defaults
    other = calls.unary("EnsureCollection", pb2.EnsureCollectionRequest(collection="plain", dimension=9))
    assert other.failure == (grpc.StatusCode.FAILED_PRECONDITION, "COLLECTION_SPEC_MISMATCH")
    bad_name = calls.unary("EnsureCollection", pb2.EnsureCollectionRequest(collection="no-dash", dimension=8))
    assert bad_name.failure == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_COLLECTION_NAME")
    no_dimension = calls.unary("EnsureCollection", pb2.EnsureCollectionRequest(collection="flat"))
    assert no_dimension.failure == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_DIMENSION")


def test_drop_collection_says_whether_there_was_one(calls, voices, store):
    assert calls.unary("DropCollection", pb2.DropCollectionRequest(collection=voices)).response.dropped is True
    assert voices not in store.specs
    again = calls.unary("DropCollection", pb2.DropCollectionRequest(collection=voices))
    assert again.code is OK and again.response.dropped is False


def test_upsert_maps_clips_labels_and_segments(calls, voices, store):
    request = pb2.UpsertRequest(
        collection=voices,
        clips=[
            pb2.ClipVectors(
                clip_id=7,
                labels=types_pb2.Labels(speaker="alice", sound_class="speech", tags=["studio", "en"]),
                duration_seconds=4.5,
                segments=[segment([1, 0, 0], 0.0, 2.0), segment([0, 1, 0], 2.0, 4.5)],
            ),
            pb2.ClipVectors(clip_id=8, segments=[segment([0, 0, 1])]),
        ],
    )
    outcome = calls.unary("Upsert", request)
    assert outcome.code is OK and outcome.response.upserted_vectors == 3
    alice = store.clips[voices][7]
    assert (alice.labels.speaker, alice.labels.sound_class, alice.labels.tags) == ("alice", "speech", ("studio", "en"))
    assert alice.duration_seconds == 4.5
    assert [(list(s.vector), s.start_seconds, s.end_seconds) for s in alice.segments] == [
        ([1.0, 0.0, 0.0], 0.0, 2.0),
        ([0.0, 1.0, 0.0], 2.0, 4.5),
    ]


def test_upsert_refusals(calls, voices):
    wrong_size = pb2.UpsertRequest(collection=voices, clips=[pb2.ClipVectors(clip_id=1, segments=[segment([1, 0])])])
    assert calls.unary("Upsert", wrong_size).failure == (grpc.StatusCode.INVALID_ARGUMENT, "DIMENSION_MISMATCH")
    twice = pb2.UpsertRequest(
        collection=voices,
        clips=[pb2.ClipVectors(clip_id=1, segments=[segment([1, 0, 0])])] * 2,
    )
    assert calls.unary("Upsert", twice).failure == (grpc.StatusCode.INVALID_ARGUMENT, "DUPLICATE_CLIP")
    nowhere = pb2.UpsertRequest(collection="nowhere", clips=[pb2.ClipVectors(clip_id=1, segments=[segment([1, 0, 0])])])
    assert calls.unary("Upsert", nowhere).failure == (grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND")


def test_delete_passes_the_clip_ids(calls, voices, store):
    outcome = calls.unary("Delete", pb2.DeleteRequest(collection=voices, clip_ids=[3, 1, 2]))
    assert outcome.code is OK and outcome.response == pb2.DeleteResponse()
    assert store.deleted == [(voices, [3, 1, 2])]


def test_search_maps_queries_filter_and_hits(calls, voices, store):
    store.planted_hits = [
        [SegmentHit(5, 0.25, 1.0, 3.0), SegmentHit(4, 0.75, 0.0, 2.0)],
        [SegmentHit(9, 0.5, 2.5, 4.5)],
    ]
    request = pb2.SearchRequest(
        collection=voices,
        queries=[pb2.Vector(values=[1, 0, 0]), pb2.Vector(values=[0, 1, 0])],
        top_k=2,
        filter=types_pb2.SearchFilter(speakers=["alice"], tags_any=["studio"], min_duration_seconds=1.5),
        search_breadth=128,
        exclude_clip_ids=[42],
    )
    outcome = calls.unary("Search", request)
    assert outcome.code is OK, outcome.details
    # One result per query, best first.
    assert [
        [(h.clip_id, h.score, h.start_seconds, h.end_seconds) for h in result.hits]
        for result in outcome.response.results
    ] == [
        [(4, 0.75, 0.0, 2.0), (5, 0.25, 1.0, 3.0)],
        [(9, 0.5, 2.5, 4.5)],
    ]
    [search] = store.searches
    # float32 arrays: the one copy of a vector in the search service, handed to the store as it is.
    assert [query.tolist() for query in search["queries"]] == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert search["breadth"] == 128
    for value in ('"alice"', '"studio"', "1.5", "42"):  # every filter field and the excluded id reach the store
        assert value in search["expression"]


def test_search_refusals(calls, voices):
    no_top_k = pb2.SearchRequest(collection=voices, queries=[pb2.Vector(values=[1, 0, 0])])
    assert calls.unary("Search", no_top_k).failure[0] is grpc.StatusCode.INVALID_ARGUMENT
    zero = pb2.SearchRequest(collection=voices, queries=[pb2.Vector(values=[0, 0, 0])], top_k=1)
    assert calls.unary("Search", zero).failure == (grpc.StatusCode.INVALID_ARGUMENT, "ZERO_VECTOR")
    no_queries = pb2.SearchRequest(collection=voices, top_k=1)
    assert calls.unary("Search", no_queries).failure == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_QUERY_COUNT")


def test_count_and_get_vectors(calls, voices):
    calls.unary(
        "Upsert",
        pb2.UpsertRequest(
            collection=voices,
            clips=[
                pb2.ClipVectors(clip_id=1, segments=[segment([1, 0, 0], 0, 2), segment([0, 1, 0], 1, 3)]),
                pb2.ClipVectors(clip_id=2, segments=[segment([0, 0, 1])]),
            ],
        ),
    )
    count = calls.unary("Count", pb2.CountRequest(collection=voices)).response
    assert (count.vectors, count.clips) == (3, 2)
    vectors = calls.unary("GetVectors", pb2.GetVectorsRequest(collection=voices, clip_id=1)).response
    assert list(vectors.segments) == [segment([1, 0, 0], 0, 2), segment([0, 1, 0], 1, 3)]
    none = calls.unary("GetVectors", pb2.GetVectorsRequest(collection=voices, clip_id=99))
    assert none.failure == (grpc.StatusCode.NOT_FOUND, "CLIP_VECTORS_NOT_FOUND")
    missing = calls.unary("Count", pb2.CountRequest(collection="nowhere"))
    assert missing.failure == (grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND")


def test_list_clip_ids_streams_them_in_bounded_messages(calls, voices, store):
    total = 2 * CLIP_IDS_PER_MESSAGE + 3
    store.clips[voices] = {clip_id: None for clip_id in range(total, 0, -1)}
    responses, outcome = calls.server_stream("ListClipIds", pb2.ListClipIdsRequest(collection=voices))
    assert outcome.code is OK
    assert [len(response.clip_ids) for response in responses] == [CLIP_IDS_PER_MESSAGE, CLIP_IDS_PER_MESSAGE, 3]
    assert [clip_id for response in responses for clip_id in response.clip_ids] == list(range(1, total + 1))


def test_list_clip_ids_of_an_empty_or_missing_collection(calls, voices):
    responses, outcome = calls.server_stream("ListClipIds", pb2.ListClipIdsRequest(collection=voices))
    assert outcome.code is OK and responses == []
    responses, outcome = calls.server_stream("ListClipIds", pb2.ListClipIdsRequest(collection="nowhere"))
    assert responses == [] and outcome.failure == (grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND")


def test_a_crash_in_the_store_is_internal_without_its_text(calls, voices, store):
    def crash(collection):
        raise RuntimeError("secret connection string")

    store.count = crash
    outcome = calls.unary("Count", pb2.CountRequest(collection=voices))
    assert outcome.code is grpc.StatusCode.INTERNAL and outcome.error_info is None
    assert f"/{SERVICE.full_name}/Count" in outcome.details and "secret" not in outcome.details


def speaker_row(speaker_id: str, values: list[float], mean: float = 0.2) -> pb2.SpeakerRow:
    return pb2.SpeakerRow(speaker_id=speaker_id, vector=pb2.Vector(values=values), cohort_mean=mean, cohort_std=0.1)


def test_speaker_rows_round_trip_and_refusals(calls, voices, store):
    rows = [speaker_row("ann", [1, 0, 0]), speaker_row("bob", [0, 1, 0], mean=0.3)]
    assert calls.unary("UpsertSpeakers", pb2.UpsertSpeakersRequest(collection=voices, speakers=rows)).code is OK
    query = pb2.SearchSpeakersRequest(collection=voices, queries=[pb2.Vector(values=[0, 1, 0])], top_k=1)
    [result] = calls.unary("SearchSpeakers", query).response.results
    assert [(hit.speaker_id, hit.score, hit.cohort_mean) for hit in result.hits] == [("bob", 1.0, pytest.approx(0.3))]
    got = calls.unary("GetSpeakers", pb2.GetSpeakersRequest(collection=voices, speaker_ids=["ann", "x"])).response
    assert [(row.speaker_id, list(row.vector.values)) for row in got.speakers] == [("ann", [1, 0, 0])]
    assert calls.unary("DeleteSpeakers", pb2.DeleteSpeakersRequest(collection=voices, speaker_ids=["ann"])).code is OK
    assert set(store.speakers[voices]) == {"bob"}
    calls.unary("DropCollection", pb2.DropCollectionRequest(collection=voices))
    assert voices not in store.speakers  # dropped with the collection

    invalid, missing = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND
    refusals = [
        (pb2.UpsertSpeakersRequest(collection="nowhere", speakers=rows), missing, "COLLECTION_NOT_FOUND"),
        (pb2.GetSpeakersRequest(collection="voices", speaker_ids=["a\x01"]), invalid, "SPEAKER_ID_CONTROL_CHARACTER"),
        (pb2.SearchSpeakersRequest(collection="voices", top_k=5), invalid, "INVALID_QUERY_COUNT"),
    ]
    calls.unary("EnsureCollection", pb2.EnsureCollectionRequest(collection="voices", dimension=3))
    for request, code, reason in refusals:
        method = type(request).__name__.removesuffix("Request")
        failure = calls.unary(method, request).failure
        assert failure == (code, reason)
