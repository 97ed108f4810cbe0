"""What a hostile user found (issue: hardening): each test failed before its fix.

Request ids bound to other content, concurrent identical uploads, long queries in windowed collections, page tokens
past int64, unknown enum values, create/drop races and stuck names, half-dropped collections, FIFOs swapped into an
import, label and filter rules that differed between services, a collection dropped during an import, NaN scores and
windows a model cannot embed.
"""

import base64
import os
from concurrent.futures import ThreadPoolExecutor

import grpc
import numpy as np
import pytest

from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.runtime import paths
from audiosearch.tools import synth
from audiosearch.type.v1 import types_pb2

from gateway_support import TIMEOUT, all_clips, audio_file, footprint, ingest, rpc_error, stats_of

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def _concurrently(count: int, call):
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(call, range(count)))


def _outcome(call):
    try:
        return call()
    except grpc.RpcError as error:
        return error.code()


def test_a_request_id_bound_to_other_audio_is_refused(gateway, new_collection):
    collection = new_collection("rid")
    first = ingest(gateway, collection, audio_file("tone", 1), request_id="upload-1")
    with rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "REQUEST_ID_REUSED"):
        ingest(gateway, collection, audio_file("siren", 2), request_id="upload-1")
    retried = ingest(gateway, collection, audio_file("tone", 1), request_id="upload-1")

    assert retried.clip.id == first.clip.id
    assert [clip.id for clip in all_clips(gateway, collection)] == [first.clip.id]


def test_concurrent_different_uploads_with_one_request_id_store_one_and_refuse_the_others(gateway, new_collection):
    collection = new_collection("rid")
    outcomes = _concurrently(
        6,
        lambda n: _outcome(lambda: ingest(gateway, collection, audio_file("chirp", 10 + n), request_id="same").clip.id),
    )

    stored = [outcome for outcome in outcomes if isinstance(outcome, int)]
    assert len(stored) == 1 and outcomes.count(grpc.StatusCode.FAILED_PRECONDITION) == 5
    assert [clip.id for clip in all_clips(gateway, collection)] == stored


def test_of_concurrent_identical_uploads_exactly_one_says_it_added_the_clip(gateway, new_collection):
    collection = new_collection("dup")
    content = audio_file("vowel", 3)
    replies = _concurrently(8, lambda n: ingest(gateway, collection, content))

    assert len({reply.clip.id for reply in replies}) == 1
    assert [reply.duplicate for reply in replies].count(False) == 1
    assert footprint(gateway, collection) == (1, 1, 0, 1)


def _recording(seed: int, seconds: int = 60, rate: int = 16000) -> np.ndarray:
    """Ten-second stretches of different sound classes, so every window of the recording is its own."""
    parts = [
        synth.generate(synth.CLASSES[(seed + part) % len(synth.CLASSES)], seed * 100 + part, 10.0, rate)
        for part in range(seconds // 10)
    ]
    return np.concatenate(parts)


def test_long_queries_and_long_clips_search_a_windowed_collection(gateway, new_collection):
    collection = new_collection("long", segments=types_pb2.SegmentOptions(window_seconds=3.0, hop_seconds=0.25))
    recordings = {seed: _recording(seed) for seed in (1, 4)}
    clips = {
        seed: ingest(gateway, collection, synth.encode(samples, 16000)).clip for seed, samples in recordings.items()
    }
    assert clips[1].segment_count == 229  # more windows than one search call takes

    excerpt = synth.encode(recordings[1][15 * 16000 : 45 * 16000], 16000)
    by_excerpt = gateway.SearchAudio(
        pb2.SearchAudioRequest(collection=collection, audio=excerpt, top_k=2), timeout=TIMEOUT
    )
    whole = synth.encode(recordings[4], 16000)
    by_whole = gateway.SearchAudio(pb2.SearchAudioRequest(collection=collection, audio=whole, top_k=2), timeout=TIMEOUT)
    by_id = gateway.SearchAudio(
        pb2.SearchAudioRequest(collection=collection, clip_id=clips[1].id, top_k=2), timeout=TIMEOUT
    )

    assert by_excerpt.hits[0].clip.id == clips[1].id
    assert 15.0 <= by_excerpt.hits[0].start_seconds <= 45.0
    assert by_whole.hits[0].clip.id == clips[4].id and by_whole.hits[0].score == pytest.approx(1.0, abs=1e-3)
    assert [hit.clip.id for hit in by_id.hits] == [clips[4].id]  # itself excluded


@pytest.mark.parametrize("token", ["clip:99999999999999999999999", "clip:-5", "clip:9223372036854775808"])
def test_page_tokens_beyond_int64_are_invalid(gateway, new_collection, token):
    collection = new_collection("tok")
    encoded = base64.urlsafe_b64encode(token.encode()).decode()
    with rpc_error(INVALID, "INVALID_PAGE_TOKEN"):
        gateway.ListClips(pb2.ListClipsRequest(collection=collection, page_token=encoded), timeout=TIMEOUT)


def test_an_unknown_purpose_is_invalid(gateway):
    request = pb2.CreateCollectionRequest(name="purpose_99", purpose=99)
    with rpc_error(INVALID, "INVALID_PURPOSE"):
        gateway.CreateCollection(request, timeout=TIMEOUT)


def test_concurrent_creates_and_drops_of_one_name_leave_the_stores_agreeing(stack, gateway):
    name = "race_create_drop"

    def drop():
        return gateway.DropCollection(pb2.DropCollectionRequest(name=name), timeout=TIMEOUT)

    def create():
        return gateway.CreateCollection(pb2.CreateCollectionRequest(name=name, model="logmel"), timeout=TIMEOUT)

    def create_or_drop(n):
        outcome = _outcome(drop if n % 2 else create)
        return outcome if isinstance(outcome, grpc.StatusCode) else grpc.StatusCode.OK

    for _ in range(3):
        outcomes = _concurrently(8, create_or_drop)
        assert set(outcomes) <= {grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ALREADY_EXISTS}
        has_record = name in {row.name for row in gateway.GetStats(pb2.GetStatsRequest(), timeout=TIMEOUT).collections}
        has_vectors = stack.search_core.store.describe(name) is not None
        assert has_record == has_vectors
    gateway.DropCollection(pb2.DropCollectionRequest(name=name), timeout=TIMEOUT)


def test_a_name_whose_vectors_outlived_their_record_is_recovered_by_drop(stack, gateway):
    name = "stuck_name"
    stack.search_core.ensure_collection(name, 7, "COSINE")  # what an interleaved create and drop used to leave
    dropped = gateway.DropCollection(pb2.DropCollectionRequest(name=name), timeout=TIMEOUT)
    created = gateway.CreateCollection(pb2.CreateCollectionRequest(name=name, model="logmel"), timeout=TIMEOUT)

    assert dropped.deleted_clips == 0 and created.name == name
    with rpc_error(grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND"):
        gateway.DropCollection(pb2.DropCollectionRequest(name="never_was"), timeout=TIMEOUT)


def test_a_half_dropped_collection_is_reported_alone_and_repaired_by_reconcile(stack, gateway, new_collection):
    healthy, broken = new_collection("half"), new_collection("half")
    ingest(gateway, healthy, audio_file("tone", 7))
    lost = ingest(gateway, broken, audio_file("siren", 7)).clip
    stack.search_core.drop_collection(broken)  # a drop cut short between its two steps

    assert stats_of(gateway, healthy).ready_clips == 1
    assert "COLLECTION_NOT_FOUND" in stats_of(gateway, broken).problem
    report = gateway.Reconcile(pb2.ReconcileRequest(collection=broken, min_age_seconds=1e-9), timeout=TIMEOUT)
    everything = gateway.Reconcile(pb2.ReconcileRequest(min_age_seconds=3e8, dry_run=True), timeout=TIMEOUT)

    repaired = report.collections[0]
    # Its kept audio gives the lost clip its vectors back (docs/kept-audio.md).
    assert repaired.vectors_recreated and repaired.vectors_restored == 1 and not repaired.ready_without_vectors
    assert gateway.SearchAudio(pb2.SearchAudioRequest(collection=broken, clip_id=lost.id, top_k=1), timeout=TIMEOUT)
    assert broken in {row.name for row in everything.collections}
    assert stats_of(gateway, broken).problem == ""
    again = ingest(gateway, broken, audio_file("chirp", 7)).clip
    assert gateway.SearchAudio(pb2.SearchAudioRequest(collection=broken, clip_id=again.id, top_k=1), timeout=TIMEOUT)


@pytest.mark.timeout(60)
def test_a_fifo_swapped_into_an_import_is_refused_without_hanging(stack, gateway, new_collection, monkeypatch):
    collection = new_collection("fifo")
    folder = stack.import_root / "fifo_swap"
    folder.mkdir()
    (folder / "a.wav").write_bytes(audio_file("tone", 20))
    listed = [folder / "a.wav", folder / "b.wav"]
    os.mkfifo(folder / "b.wav")  # listed as a file, then swapped for a FIFO nobody writes to
    monkeypatch.setattr(paths, "audio_files", lambda *_: listed)

    progress = list(
        gateway.ImportDirectory(pb2.ImportDirectoryRequest(collection=collection, path=str(folder)), timeout=TIMEOUT)
    )

    outcomes = {pathlib_name(item.path): (item.outcome, item.error) for item in progress}
    assert outcomes["a.wav"][0] == pb2.ImportDirectoryProgress.OUTCOME_ADDED
    assert outcomes["b.wav"][0] == pb2.ImportDirectoryProgress.OUTCOME_FAILED and "regular file" in outcomes["b.wav"][1]


def pathlib_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def test_an_import_into_a_collection_dropped_meanwhile_ends_not_found(stack, gateway, new_collection):
    collection = new_collection("gone")
    folder = stack.import_root / "dropped_meanwhile"
    folder.mkdir()
    for seed in range(200):  # several batches (IMPORT_BATCH_SIZE 64): the job still runs after the first outcome
        (folder / f"clip_{seed:03}.wav").write_bytes(audio_file("clicks", 300 + seed, duration_seconds=0.5))
    stream = gateway.ImportDirectory(
        pb2.ImportDirectoryRequest(collection=collection, path=str(folder)), timeout=TIMEOUT
    )
    received = [next(stream)]
    gateway.DropCollection(pb2.DropCollectionRequest(name=collection), timeout=TIMEOUT)

    with rpc_error(grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND"):
        received += list(stream)
    assert len(received) < 200


def test_labels_are_limited_in_utf8_bytes_before_anything_is_written(gateway, new_collection):
    collection = new_collection("cjk")
    fits = ingest(gateway, collection, audio_file("tone", 30), speaker="声" * 85).clip
    with rpc_error(INVALID, "LABEL_TOO_LONG") as raised:
        ingest(gateway, collection, audio_file("tone", 31), speaker="声" * 100)

    assert "300 bytes" in raised.value.details() and "clip" not in raised.value.details()
    assert fits.labels.speaker == "声" * 85 and footprint(gateway, collection) == (1, 1, 0, 1)


@pytest.mark.parametrize("label", ["tab\there", "line\nbreak", "nul\x00", "del\x7f"])
def test_control_characters_are_refused_in_labels_as_in_filters(gateway, new_collection, label):
    collection = new_collection("ctl")
    with rpc_error(INVALID, "LABEL_CONTROL_CHARACTER"):
        ingest(gateway, collection, audio_file("tone", 40), sound_class=label)
    with rpc_error(INVALID, "LABEL_CONTROL_CHARACTER"):
        gateway.ListClips(
            pb2.ListClipsRequest(collection=collection, filter=types_pb2.SearchFilter(sound_classes=[label])),
            timeout=TIMEOUT,
        )
    assert footprint(gateway, collection) == (0, 0, 0, 0)


@pytest.mark.parametrize("values, reason", [(256, None), (300, "TOO_MANY_FILTER_VALUES")])
def test_one_filter_rule_for_search_and_list(gateway, new_collection, values, reason):
    collection = new_collection("flt")
    clip = ingest(gateway, collection, audio_file("tone", 50)).clip
    search_filter = types_pb2.SearchFilter(speakers=[f"s{n}" for n in range(values)])
    search = pb2.SearchAudioRequest(collection=collection, clip_id=clip.id, top_k=1, filter=search_filter)
    listing = pb2.ListClipsRequest(collection=collection, filter=search_filter)
    if reason is None:
        gateway.SearchAudio(search, timeout=TIMEOUT)
        gateway.ListClips(listing, timeout=TIMEOUT)
        return
    with rpc_error(INVALID, reason):
        gateway.SearchAudio(search, timeout=TIMEOUT)
    with rpc_error(INVALID, reason):
        gateway.ListClips(listing, timeout=TIMEOUT)


@pytest.mark.parametrize("score", [float("nan"), float("inf"), float("-inf")])
def test_a_min_score_that_is_not_a_number_is_invalid(gateway, new_collection, score):
    collection = new_collection("nan")
    clip = ingest(gateway, collection, audio_file("tone", 60)).clip
    with rpc_error(INVALID, "INVALID_MIN_SCORE"):
        gateway.SearchAudio(
            pb2.SearchAudioRequest(collection=collection, clip_id=clip.id, top_k=1, min_score=score), timeout=TIMEOUT
        )


@pytest.mark.parametrize("window, hop", [(0.05, 0.05), (3.0, 1e-9), (3.0, 0.0), (3.0, 4.0)])
def test_windows_no_ingest_could_use_are_refused_at_creation(gateway, window, hop):
    request = pb2.CreateCollectionRequest(
        name="bad_windows", model="logmel", segments=types_pb2.SegmentOptions(window_seconds=window, hop_seconds=hop)
    )
    with rpc_error(INVALID, "INVALID_SEGMENTS"):
        gateway.CreateCollection(request, timeout=TIMEOUT)
    with rpc_error(grpc.StatusCode.NOT_FOUND):
        gateway.DropCollection(pb2.DropCollectionRequest(name="bad_windows"), timeout=TIMEOUT)
