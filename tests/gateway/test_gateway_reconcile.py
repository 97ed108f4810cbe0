"""Reconcile through the public API: leftovers of crashed flows, made directly in the stores, are healed."""

import hashlib

import grpc

from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.runtime import domain
from audiosearch.search.v1 import search_service_pb2 as search_pb2
from audiosearch.search.v1 import search_service_pb2_grpc as search_grpc
from search_service.vectors import ClipVectors

from gateway_support import TIMEOUT, all_clips, audio_file, ingest, stats_of


def _leftover(stack, collection: str, seed: int, state: domain.ClipState, with_vectors: bool = True) -> int:
    """A clip as a crash leaves it: a record in `state`, and (optionally) its vectors."""
    dimension = stack.metadata_core.get_collection(collection).dimension
    draft = domain.Clip(0, collection, hashlib.sha256(f"{collection}{seed}".encode()).hexdigest(), f"crash{seed}.wav")
    clip, _ = stack.metadata_core.create_clip(draft)
    if with_vectors:
        vector = [1.0 + seed] + [0.5] * (dimension - 1)
        stack.search_core.upsert(
            collection, [ClipVectors(clip.id, domain.Labels(), 1.0, [domain.Segment(vector, 0, 1)])]
        )
    if state is not domain.ClipState.PENDING:
        stack.metadata_core.update_clip_state(clip.id, state)
    return clip.id


def _vector_ids(stack, collection: str) -> set[int]:
    return set(stack.search_core.list_clip_ids(collection))


def test_reconcile_heals_crash_leftovers_and_keeps_ready_clips(stack, gateway, new_collection):
    collection = new_collection("rec")
    kept = ingest(gateway, collection, audio_file("siren", 1, ".wav")).clip.id
    pending = _leftover(stack, collection, 1, domain.ClipState.PENDING)
    deleting = _leftover(stack, collection, 2, domain.ClipState.DELETING)
    _leftover(stack, collection, 3, domain.ClipState.FAILED, with_vectors=False)
    orphan = _leftover(stack, collection, 4, domain.ClipState.PENDING)
    stack.metadata_core.delete_clip(orphan)  # vectors whose record is gone
    assert _vector_ids(stack, collection) == {kept, pending, deleting, orphan}

    # Young leftovers may be ingests in flight: left alone by the default bound.
    young = gateway.Reconcile(pb2.ReconcileRequest(collection=collection), timeout=TIMEOUT).collections[0]
    assert (young.pending_rolled_back, young.deleting_finished, young.failed_removed) == (0, 0, 0)
    assert young.orphan_vectors_removed == 1  # no record at all: never in flight

    dry = gateway.Reconcile(
        pb2.ReconcileRequest(collection=collection, min_age_seconds=0.001, dry_run=True), timeout=TIMEOUT
    ).collections[0]
    assert (dry.pending_rolled_back, dry.deleting_finished, dry.failed_removed) == (1, 1, 1)
    assert _vector_ids(stack, collection) == {kept, pending, deleting}

    report = gateway.Reconcile(pb2.ReconcileRequest(min_age_seconds=0.001), timeout=TIMEOUT)
    mine = next(item for item in report.collections if item.name == collection)
    assert (mine.pending_rolled_back, mine.deleting_finished, mine.failed_removed, mine.orphan_vectors_removed) == (
        1,
        1,
        1,
        0,
    )
    assert list(mine.ready_without_vectors) == []
    assert [clip.id for clip in all_clips(gateway, collection)] == [kept]
    assert _vector_ids(stack, collection) == {kept}
    row = stats_of(gateway, collection)
    assert (row.ready_clips, row.pending_clips, row.failed_clips, row.vectors) == (1, 0, 0, 1)

    again = gateway.Reconcile(pb2.ReconcileRequest(collection=collection, min_age_seconds=0.001), timeout=TIMEOUT)
    item = again.collections[0]
    assert (item.pending_rolled_back, item.deleting_finished, item.failed_removed, item.orphan_vectors_removed) == (
        0,
        0,
        0,
        0,
    )


def test_reconcile_reports_ready_clips_whose_vectors_are_lost(stack, gateway, new_collection):
    # Without kept audio there is nothing to embed again (test_clip_audio.py: restored from kept audio).
    collection = new_collection("rec", keep_audio=False)
    clip_id = ingest(gateway, collection, audio_file("chirp", 2, ".wav")).clip.id
    stack.search_core.delete(collection, [clip_id])
    report = gateway.Reconcile(pb2.ReconcileRequest(collection=collection, min_age_seconds=0.001), timeout=TIMEOUT)
    assert list(report.collections[0].ready_without_vectors) == [clip_id]


def test_list_clip_ids_streams_every_id_with_vectors(stack, new_collection, gateway):
    collection = new_collection("ids")
    ids = {ingest(gateway, collection, audio_file("tone", seed, ".wav")).clip.id for seed in range(3)}
    stub = search_grpc.SearchServiceStub(grpc.insecure_channel(stack.addresses["search"]))
    streamed = stub.ListClipIds(search_pb2.ListClipIdsRequest(collection=collection), timeout=TIMEOUT)
    assert {clip_id for batch in streamed for clip_id in batch.clip_ids} == ids


def test_clip_ids_split_ranges_that_fill_the_query_window(stack, new_collection, gateway, monkeypatch):
    from search_service import store

    collection = new_collection("ids")
    ids = {ingest(gateway, collection, audio_file("clicks", seed, ".wav")).clip.id for seed in range(5)}
    monkeypatch.setattr(store, "MAX_RESULT_WINDOW", 2)
    assert stack.search_core.list_clip_ids(collection) == sorted(ids)
