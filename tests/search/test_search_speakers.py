"""Speaker rows of a speakers collection (SearchCore on Milvus Lite and on the local Milvus server): written,
searched, read, deleted and dropped with the collection, with ids that need quoting."""

import numpy as np
import pytest
from pymilvus.exceptions import ErrorCode, MilvusException

from audiosearch.runtime import domain
from audiosearch.sdk import errors
from search_service.config import SearchSettings
from search_service.core import SearchCore
from search_service.store import MilvusVectorStore

from search_data import DIMENSION, unit_vector

QUOTED = 'o"brien\\x'  # a quote and a backslash: data, never filter syntax


@pytest.fixture(scope="module")
def server_core(milvus_server):
    store = MilvusVectorStore.open(SearchSettings(milvus_uri=milvus_server.uri, collection_prefix="speakers_test_"))
    yield SearchCore(store)
    store.close()


@pytest.fixture(params=["lite", "server"])
def any_core(request, core):
    return core if request.param == "lite" else request.getfixturevalue("server_core")


def stored_ids(core: SearchCore, collection: str) -> set[str]:
    """What the table holds, read at Strong consistency (a Milvus 2.3 server's Session reads can lag a delete)."""
    store = core.store
    rows = store.client.query(
        store._speakers_name(collection), filter='id >= ""', output_fields=["id"], consistency_level="Strong"
    )
    return {row["id"] for row in rows}


def row(speaker_id: str, seed: int, mean: float = 0.1) -> domain.SpeakerRow:
    return domain.SpeakerRow(speaker_id, unit_vector(seed), mean, 0.05)


def test_speaker_rows_are_searched_read_deleted_and_dropped(any_core):
    any_core.ensure_collection("speaker_rows", DIMENSION)
    assert any_core.search_speakers("speaker_rows", [unit_vector(1)], 5) == [[]]  # no speaker yet
    any_core.upsert_speakers("speaker_rows", [row("ann", 1), row(QUOTED, 2), row("bob", 3)])
    any_core.upsert_speakers("speaker_rows", [row("bob", 3, mean=0.3)])  # replaces bob's row
    [hits] = any_core.search_speakers("speaker_rows", [unit_vector(2)], 2)
    assert [hit.speaker_id for hit in hits] == [QUOTED, hits[1].speaker_id] and len(hits) == 2
    assert hits[0].score == pytest.approx(1.0, abs=1e-4) and hits[0].cohort_std == pytest.approx(0.05)
    got = {r.speaker_id: r for r in any_core.get_speakers("speaker_rows", ["bob", QUOTED, "nobody"])}
    assert set(got) == {"bob", QUOTED} and got["bob"].cohort_mean == pytest.approx(0.3)
    assert np.allclose(got["bob"].vector, unit_vector(3), atol=1e-6)
    any_core.delete_speakers("speaker_rows", [QUOTED, "nobody"])
    any_core.delete_speakers("speaker_rows", [QUOTED])  # idempotent
    assert stored_ids(any_core, "speaker_rows") == {"ann", "bob"}
    assert any_core.drop_collection("speaker_rows")
    any_core.ensure_collection("speaker_rows", DIMENSION)
    assert any_core.search_speakers("speaker_rows", [unit_vector(1)], 5) == [[]]  # dropped with the collection
    any_core.drop_collection("speaker_rows")


@pytest.mark.parametrize(
    "speakers, reason",
    [
        ([row("a", 1), row("a", 2)], "DUPLICATE_SPEAKER"),
        ([row("bad\x07id", 1)], "SPEAKER_ID_CONTROL_CHARACTER"),
        ([row("x" * 10_240, 1)], "SPEAKER_ID_TOO_LONG"),
        ([domain.SpeakerRow("a", unit_vector(1), float("nan"), 0.1)], "INVALID_COHORT_STATISTICS"),
        ([domain.SpeakerRow("a", unit_vector(1), 0.1, 0.0)], "INVALID_COHORT_STATISTICS"),
        ([domain.SpeakerRow("a", [0.5, 0.5], 0.1, 0.1)], "DIMENSION_MISMATCH"),
    ],
)
def test_bad_speaker_rows_are_refused(core, new_collection, speakers, reason):
    name = new_collection()
    with pytest.raises(errors.AudioSearchError) as refused:
        core.upsert_speakers(name, speakers)
    assert isinstance(refused.value, errors.InvalidArgument) and refused.value.reason == reason
    assert core.search_speakers(name, [unit_vector(1)], 5) == [[]]


class _IndexLaggingClient:
    """The real client, answering as a busy Milvus server did in CI: a new collection's index accepted, but its
    state and then its description "no index" for a moment (pymilvus's create_collection raised after creating
    both)."""

    def __init__(self, client, lagging_answers: int) -> None:
        self._client = client
        self._lagging_answers = lagging_answers
        self._lagging = 0

    def create_collection(self, *args, **kwargs):
        self._client.create_collection(*args, **kwargs)
        self._lagging = self._lagging_answers
        raise MilvusException(ErrorCode.INDEX_NOT_FOUND, "no index on collection")

    def describe_index(self, *args, **kwargs):
        if self._lagging > 0:
            self._lagging -= 1
            raise MilvusException(ErrorCode.INDEX_NOT_FOUND, "no index on collection")
        return self._client.describe_index(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_an_index_the_server_shows_late_is_waited_for(core, monkeypatch):
    monkeypatch.setattr(core.store, "client", _IndexLaggingClient(core.store.client, lagging_answers=2))
    core.ensure_collection("late_index", DIMENSION)  # the clip vectors' collection
    core.upsert_speakers("late_index", [row("ada", 1)])  # the speaker rows' own collection
    monkeypatch.undo()
    assert [hit.speaker_id for hit in core.search_speakers("late_index", [unit_vector(1)], 5)[0]] == ["ada"]
    core.drop_collection("late_index")
