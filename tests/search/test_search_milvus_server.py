"""SearchCore against a real Milvus server (the session's local one): what differs from Milvus Lite in practice."""

import pytest
from pymilvus import MilvusClient

from audiosearch.runtime import domain
from search_service.config import SearchSettings
from search_service.core import SearchCore
from search_service.store import MilvusVectorStore

from search_data import DIMENSION, clip, unit_vector


@pytest.fixture(scope="module")
def server_core(milvus_server):
    store = MilvusVectorStore.open(SearchSettings(milvus_uri=milvus_server.uri, collection_prefix="search_test_"))
    yield SearchCore(store)
    store.close()


def test_a_clip_is_found_by_the_search_right_after_its_upsert(server_core):
    server_core.ensure_collection("fresh", DIMENSION)
    for clip_id in range(1, 21):
        server_core.upsert("fresh", [clip(clip_id, unit_vector(clip_id))])
        [hits] = server_core.search("fresh", [unit_vector(clip_id)], 1)
        assert hits and hits[0].clip_id == clip_id
    server_core.delete("fresh", [5])
    assert server_core.count("fresh").clips == 19


def test_windows_of_one_clip_do_not_crowd_out_other_clips(server_core):
    server_core.ensure_collection("crowded", DIMENSION)
    near = unit_vector(100)
    # Clip 1 has more windows near the query than top_k; clips 2..4 one window each, a bit further away.
    server_core.upsert("crowded", [clip(1, *[near] * 6)] + [clip(i, unit_vector(100 + i)) for i in range(2, 5)])
    [hits] = server_core.search("crowded", [near], 3)
    assert hits[0].clip_id == 1 and len(hits) == 3 and len({hit.clip_id for hit in hits}) == 3


def test_stored_vectors_filters_and_quotes_on_the_server(server_core):
    sneaky = 'a" or clip_id >= 0 or speaker == "'
    server_core.ensure_collection("labels", DIMENSION)
    server_core.upsert(
        "labels",
        [
            clip(1, unit_vector(1), labels=domain.Labels("ann")),
            clip(2, unit_vector(2), labels=domain.Labels(sneaky)),
            clip(3, unit_vector(3), unit_vector(4), labels=domain.Labels("bob")),
        ],
    )
    assert [segment.start_seconds for segment in server_core.get_vectors("labels", 3)] == [0.0, 1.0]
    for speakers, expected in [(("ann",), {1}), ((sneaky,), {2}), (('" or speaker != "',), set())]:
        [hits] = server_core.search("labels", [unit_vector(1)], 10, domain.SearchFilter(speakers=speakers))
        assert {hit.clip_id for hit in hits} == expected
    [hits] = server_core.search("labels", [unit_vector(3)], 10, exclude_clip_ids=[3])
    assert 3 not in {hit.clip_id for hit in hits}


def test_an_upsert_deletes_by_filter_only_when_a_clip_lost_windows(server_core, monkeypatch):
    """A delete by filter costs a Strong query on the server (~200 ms, a time tick, per ingest); stale windows are
    found by primary key, under the store's Session level, and only a clip that got shorter pays for the filter."""
    server_core.ensure_collection("shrinking", DIMENSION)
    server_core.upsert("shrinking", [clip(1, unit_vector(1), unit_vector(2), unit_vector(3))])
    filters: list[str] = []
    delete = MilvusClient.delete

    def counted_delete(self, collection_name, *args, filter="", **options):  # noqa: A002 (pymilvus's name)
        filters.append(filter)
        return delete(self, collection_name, *args, filter=filter, **options)

    monkeypatch.setattr(MilvusClient, "delete", counted_delete)
    server_core.upsert("shrinking", [clip(2, unit_vector(4)), clip(3, unit_vector(5), unit_vector(6))])  # new clips
    server_core.upsert("shrinking", [clip(1, unit_vector(7), unit_vector(8), unit_vector(9))])  # same length again
    assert filters == []

    server_core.upsert("shrinking", [clip(1, unit_vector(10)), clip(2, unit_vector(11))])  # clip 1 lost two windows
    assert len(filters) == 1 and "clip_id in [1]" in filters[0]
    assert (server_core.count("shrinking").vectors, server_core.count("shrinking").clips) == (4, 3)
    assert [segment.start_seconds for segment in server_core.get_vectors("shrinking", 1)] == [0.0]
