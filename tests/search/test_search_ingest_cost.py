"""Ingest cost on Milvus Lite must not grow with the collection: no whole-collection scan per upsert."""

from milvus_lite.engine.collection import Collection

from search_data import clip, unit_vector


def test_upserting_clips_scans_no_rows_unless_a_clip_got_shorter(core, new_collection, monkeypatch):
    """A delete by filter makes Milvus Lite query every row (ingest went from ~20 ms to ~80 ms at 1,250 clips);
    stale segments are found by primary key instead, and only a clip that lost segments pays for a filter."""
    name = new_collection()
    core.upsert(name, [clip(1, unit_vector(1), unit_vector(2), unit_vector(3))])
    scans: list[str] = []
    query = Collection.query

    def counted_query(self, expr, *args, **options):
        scans.append(expr)
        return query(self, expr, *args, **options)

    monkeypatch.setattr(Collection, "query", counted_query)

    core.upsert(name, [clip(2, unit_vector(4)), clip(3, unit_vector(5), unit_vector(6))])  # new clips
    core.upsert(name, [clip(1, unit_vector(7), unit_vector(8), unit_vector(9))])  # same length again
    assert scans == []

    core.upsert(name, [clip(1, unit_vector(10)), clip(2, unit_vector(11))])  # clip 1 lost two segments
    assert len(scans) == 1 and "clip_id in [1]" in scans[0]
    assert (core.count(name).vectors, core.count(name).clips) == (4, 3)
