"""SearchCore against a real Milvus Lite file: what a caller of the search service would notice."""

import math

import pytest

from audiosearch.runtime import domain
from audiosearch.sdk import errors
from search_service.config import SearchSettings
from search_service.core import SearchCore
from search_service.store import MilvusVectorStore

from search_data import DIMENSION, clip, unit_vector

SNEAKY_SPEAKER = 'a" or id != "'
SNEAKY_CLASS = "x' OR 1==1"
LONG_CLIP_WINDOWS = [unit_vector(60), unit_vector(61), unit_vector(62)]


@pytest.fixture(scope="module")
def library(core) -> str:
    """One collection of labelled clips that the read-only tests share."""
    core.ensure_collection("library", DIMENSION)
    core.upsert(
        "library",
        [
            clip(1, unit_vector(1), labels=domain.Labels("ann", "speech", ("loud",)), duration=2.0),
            clip(2, unit_vector(2), labels=domain.Labels("bob", "speech", ("quiet", "outdoor")), duration=5.0),
            clip(3, unit_vector(3), labels=domain.Labels("", "dog", ("loud", "outdoor")), duration=10.0),
            clip(4, unit_vector(4), labels=domain.Labels(SNEAKY_SPEAKER), duration=2.1),
            clip(5, unit_vector(5), labels=domain.Labels(sound_class=SNEAKY_CLASS), duration=1.0),
            clip(6, *LONG_CLIP_WINDOWS, labels=domain.Labels("long"), duration=3.0),
        ],
    )
    return "library"


def found(core, collection: str, search_filter=domain.SearchFilter(), **options) -> list[int]:
    [hits] = core.search(collection, [unit_vector(1)], 100, search_filter, **options)
    return [hit.clip_id for hit in hits]


def test_upserted_clip_is_found_first_with_score_one(core, library):
    [hits] = core.search(library, [unit_vector(2)], 3)
    assert hits[0].clip_id == 2
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert len(hits) == 3 and hits[0].score > hits[1].score >= hits[2].score


def test_each_query_gets_its_own_results(core, library):
    results = core.search(library, [unit_vector(3), unit_vector(5)], 1)
    assert [[hit.clip_id for hit in hits] for hits in results] == [[3], [5]]


def test_segment_hits_roll_up_to_the_clip_with_its_best_window(core, library):
    [hits] = core.search(library, [LONG_CLIP_WINDOWS[2]], 10)
    assert [hit.clip_id for hit in hits].count(6) == 1
    assert (hits[0].clip_id, hits[0].start_seconds, hits[0].end_seconds) == (6, 2.0, 3.0)


@pytest.mark.parametrize(
    ("search_filter", "expected"),
    [
        (domain.SearchFilter(speakers=("ann", "bob")), {1, 2}),
        (domain.SearchFilter(sound_classes=("dog",)), {3}),
        (domain.SearchFilter(tags_any=("outdoor",)), {2, 3}),
        (domain.SearchFilter(tags_any=("loud", "quiet")), {1, 2, 3}),
        (domain.SearchFilter(min_duration_seconds=2.1, max_duration_seconds=5.0), {2, 4, 6}),
        (domain.SearchFilter(sound_classes=("speech",), tags_any=("loud",)), {1}),
    ],
)
def test_filters_return_only_matching_clips(core, library, search_filter, expected):
    assert set(found(core, library, search_filter)) == expected


@pytest.mark.parametrize(
    ("search_filter", "expected"),
    [
        (domain.SearchFilter(speakers=(SNEAKY_SPEAKER,)), {4}),
        (domain.SearchFilter(sound_classes=(SNEAKY_CLASS,)), {5}),
        (domain.SearchFilter(speakers=('" or clip_id >= 0 or speaker == "',)), set()),
        (domain.SearchFilter(tags_any=('loud"]) or array_contains_any(tags, ["quiet',)), set()),
    ],
)
def test_injection_looking_values_are_plain_values(core, library, search_filter, expected):
    assert set(found(core, library, search_filter)) == expected


def test_excluded_clips_are_not_returned(core, library):
    assert 1 not in found(core, library, exclude_clip_ids=[1])
    assert found(core, library)[0] == 1


def test_search_breadth_is_bounded(core, library):
    assert found(core, library, search_breadth=4096)[0] == 1
    with pytest.raises(errors.InvalidArgument, match="search_breadth"):
        found(core, library, search_breadth=4097)


def test_counts_vectors_and_clips(core, library):
    count = core.count(library)
    assert (count.vectors, count.clips) == (8, 6)


def test_get_vectors_returns_the_segments_in_time_order(core, library):
    segments = core.get_vectors(library, 6)
    assert [(segment.start_seconds, segment.end_seconds) for segment in segments] == [(0, 1), (1, 2), (2, 3)]
    assert segments[1].vector == pytest.approx(LONG_CLIP_WINDOWS[1], abs=1e-6)
    with pytest.raises(errors.NotFound):
        core.get_vectors(library, 999)


def test_reupsert_is_idempotent_and_leaves_no_stale_segments(core, new_collection):
    name = new_collection()
    three_windows = clip(1, unit_vector(10), unit_vector(11), unit_vector(12))
    assert core.upsert(name, [three_windows, clip(2, unit_vector(20))]) == 4
    core.upsert(name, [three_windows])
    assert core.count(name).vectors == 4

    core.upsert(name, [clip(1, unit_vector(13))])
    assert (core.count(name).vectors, core.count(name).clips) == (2, 2)
    [hits] = core.search(name, [unit_vector(12)], 10)
    assert {hit.clip_id for hit in hits} == {1, 2}
    assert [hit.start_seconds for hit in hits if hit.clip_id == 1] == [0.0]


def test_delete_removes_the_clips_and_is_idempotent(core, new_collection):
    name = new_collection()
    core.upsert(name, [clip(1, unit_vector(1), unit_vector(2)), clip(2, unit_vector(3))])
    core.delete(name, [1, 42])
    core.delete(name, [1])
    [hits] = core.search(name, [unit_vector(1)], 10)
    assert [hit.clip_id for hit in hits] == [2]
    assert core.count(name).vectors == 1
    core.delete("never_created", [1])


def test_l2_score_is_minus_the_distance(core, new_collection):
    name = new_collection(metric="L2")
    core.upsert(name, [clip(1, [1.0] + [0.0] * 7), clip(2, [3.0] + [0.0] * 7)])
    [hits] = core.search(name, [[1.0] + [0.0] * 7], 2)
    assert [hit.clip_id for hit in hits] == [1, 2]
    assert hits[0].score == pytest.approx(0.0, abs=1e-6)
    assert hits[1].score < 0


@pytest.mark.parametrize("index_type", ["IVF_FLAT", "IVF_SQ8", "FLAT"])
def test_other_index_types_find_the_clip(core, new_collection, index_type):
    name = new_collection(metric="IP", index_type=index_type)
    core.upsert(name, [clip(clip_id, unit_vector(clip_id)) for clip_id in range(1, 6)])
    [hits] = core.search(name, [unit_vector(4)], 2)
    assert hits[0].clip_id == 4 and hits[0].score == pytest.approx(1.0, abs=0.02)


def test_ensure_collection_is_idempotent_but_refuses_another_dimension(core, new_collection):
    name = new_collection()
    assert core.ensure_collection(name, DIMENSION) is False
    with pytest.raises(errors.FailedPrecondition, match=f"dimension {DIMENSION}"):
        core.ensure_collection(name, DIMENSION * 2)
    with pytest.raises(errors.FailedPrecondition):
        core.ensure_collection(name, DIMENSION, "L2")
    assert core.drop_collection(name) is True
    assert core.drop_collection(name) is False


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("1bad", 8), "collection name"),
        (("ok", 0), "dimension"),
        (("ok", 32769), "dimension"),
        (("ok", 8, "HAMMING"), "metric"),
        (("ok", 8, "COSINE", "DISKANN"), "index_type"),
    ],
)
def test_ensure_collection_refuses_bad_arguments(core, arguments, message):
    with pytest.raises(errors.InvalidArgument, match=message):
        core.ensure_collection(*arguments)


@pytest.mark.parametrize(
    ("queries", "top_k", "reason"),
    [
        ([unit_vector(1, DIMENSION + 1)], 5, "DIMENSION_MISMATCH"),
        ([unit_vector(1)], 0, "INVALID_TOP_K"),
        ([unit_vector(1)], 1001, "INVALID_TOP_K"),
        ([], 5, "INVALID_QUERY_COUNT"),
        ([unit_vector(1)] * 101, 5, "INVALID_QUERY_COUNT"),
        ([[math.nan] * DIMENSION], 5, "NON_FINITE_VECTOR"),
        ([[0.0] * DIMENSION], 5, "ZERO_VECTOR"),
    ],
)
def test_search_refuses_bad_requests(core, library, queries, top_k, reason):
    with pytest.raises(errors.InvalidArgument) as raised:
        core.search(library, queries, top_k)
    assert raised.value.reason == reason


def test_wrong_dimension_message_names_both_numbers(core, library):
    with pytest.raises(errors.InvalidArgument, match=f"has {DIMENSION + 1} values.* dimension is {DIMENSION}"):
        core.upsert(library, [clip(7, unit_vector(7, DIMENSION + 1))])


def test_upsert_refuses_what_the_store_cannot_hold(core, library):
    with pytest.raises(errors.InvalidArgument, match="tags"):
        core.upsert(library, [clip(7, unit_vector(7), labels=domain.Labels(tags=tuple(f"t{n}" for n in range(33))))])
    with pytest.raises(errors.InvalidArgument, match="segments"):
        core.upsert(library, [clip(7)])
    with pytest.raises(errors.InvalidArgument, match="twice"):
        core.upsert(library, [clip(7, unit_vector(7)), clip(7, unit_vector(8))])
    assert core.count(library).clips == 6


def test_unknown_collection_is_not_found(core):
    with pytest.raises(errors.NotFound) as raised:
        core.search("missing", [unit_vector(1)], 5)
    assert raised.value.reason == "COLLECTION_NOT_FOUND"
    with pytest.raises(errors.NotFound):
        core.upsert("missing", [clip(1, unit_vector(1))])
    with pytest.raises(errors.NotFound):
        core.count("missing")


def test_unreachable_milvus_is_unavailable():
    with pytest.raises(errors.Unavailable) as raised:
        MilvusVectorStore.open(SearchSettings(milvus_uri="http://127.0.0.1:1"))
    assert raised.value.reason == "VECTOR_STORE_UNAVAILABLE"


def test_a_describe_that_overlaps_a_drop_leaves_nothing_cached(store, monkeypatch):
    """A search or upsert describing a collection while it is dropped used to cache it as present, so a create of
    the same name right after was skipped and the collection had a record but no vectors."""
    core = SearchCore(store)
    core.ensure_collection("overlap", 4)
    described = store._describe

    def dropped_meanwhile(collection):
        spec = described(collection)
        store.drop(collection)
        return spec

    monkeypatch.setattr(store, "_describe", dropped_meanwhile)
    assert store.describe("overlap") is not None  # what that describe saw
    monkeypatch.undo()

    assert store.describe("overlap") is None
    assert core.ensure_collection("overlap", 4) is True
    assert store.describe("overlap") is not None
    core.drop_collection("overlap")
