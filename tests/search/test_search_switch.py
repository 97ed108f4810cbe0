"""SwitchCollection (issue #16, rebuilds): a collection's name moves to a rebuild's vectors, on Milvus Lite and on
the session's local Milvus server (aliases are Milvus's own, so both are checked)."""

import itertools

import pytest

from audiosearch.runtime import rules
from audiosearch.sdk import errors
from search_service.config import SearchSettings
from search_service.core import SearchCore
from search_service.store import MilvusVectorStore

from search_data import DIMENSION, clip, unit_vector

_names = itertools.count()


@pytest.fixture(scope="module", params=["lite", "server"])
def switching(request, core):
    """(core, new_collection) on Milvus Lite (the session's) or on the local Milvus server."""
    if request.param == "lite":
        chosen = core
        yield chosen, lambda: _created(chosen)
        return
    server = request.getfixturevalue("milvus_server")
    store = MilvusVectorStore.open(SearchSettings(milvus_uri=server.uri, collection_prefix="switch_test_"))
    chosen = SearchCore(store)
    yield chosen, lambda: _created(chosen)
    store.close()


def _created(core: SearchCore) -> str:
    name = f"switched{next(_names)}"
    core.ensure_collection(name, DIMENSION)
    return name


def test_a_name_switches_to_a_rebuilds_vectors_of_another_dimension_and_drops_the_old_ones(switching):
    core, new_collection = switching
    name = new_collection()
    core.upsert(name, [clip(1, unit_vector(1))])
    target = rules.rebuild_vectors_name(name, 7)
    core.ensure_collection(target, DIMENSION * 2)
    core.upsert(target, [clip(1, unit_vector(2, DIMENSION * 2)), clip(2, unit_vector(3, DIMENSION * 2))])

    assert core.switch_collection(name, target) is True
    assert core.switch_collection(name, target) is False  # a retried switch changes nothing

    hits = core.search(name, [unit_vector(3, DIMENSION * 2)], top_k=2)[0]
    assert [hit.clip_id for hit in hits][0] == 2
    assert core.count(name).clips == 2
    with pytest.raises(errors.FailedPrecondition) as refused:  # they are the collection's now
        core.drop_collection(target)
    assert refused.value.reason == "VECTORS_IN_USE"

    # A second rebuild: the alias moves (one alter) and the first rebuild's vectors go.
    second = rules.rebuild_vectors_name(name, 8)
    core.ensure_collection(second, DIMENSION)
    core.upsert(second, [clip(3, unit_vector(4))])
    assert core.switch_collection(name, second) is True
    assert [hit.clip_id for hit in core.search(name, [unit_vector(4)], top_k=1)[0]] == [3]
    assert core.store.describe(target) is None

    assert core.drop_collection(name) is True  # the alias and the vectors it names
    assert core.store.describe(second) is None
    assert core.drop_collection(name) is False


def test_switching_to_missing_vectors_is_not_found_and_names_are_checked(switching):
    core, new_collection = switching
    name = new_collection()
    with pytest.raises(errors.NotFound):
        core.switch_collection(name, rules.rebuild_vectors_name(name, 99))
    with pytest.raises(errors.InvalidArgument):
        core.switch_collection("_rebuild1_x", name)  # only a collection's name moves
    with pytest.raises(errors.InvalidArgument):
        core.ensure_collection("_rebuild1_", DIMENSION)
    assert core.count(name).clips == 0  # untouched


def test_a_rebuilds_vectors_keep_the_index_type_of_the_collection_they_rebuild(switching):
    core, _ = switching
    name = f"flat{next(_names)}"
    core.ensure_collection(name, DIMENSION, index_type="FLAT")
    target = rules.rebuild_vectors_name(name, 3)
    core.ensure_collection(target, DIMENSION * 2)
    assert core.store.describe(target).index_type == "FLAT"
    core.switch_collection(name, target)
    assert core.store.describe(name).index_type == "FLAT"
    core.drop_collection(name)
