"""Recordings searches through the public API: where and at what offset a copy matches, and MATCH or NO_MATCH."""

import grpc
import numpy as np
import pytest

from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.tools import synth
from audiosearch.tools.evaluation import perturb
from audiosearch.type.v1 import types_pb2

from gateway_support import TIMEOUT, ingest, rpc_error

RATE = 16000
Purpose = pb2.CreateCollectionRequest.Purpose


def recording(seed: int) -> np.ndarray:
    return synth.recording(seed, 12, RATE)


def wav(samples: np.ndarray) -> bytes:
    return synth.encode(samples, RATE, ".wav")


@pytest.fixture(scope="module")
def library(gateway):
    """A RECORDINGS collection (fingerprint, 3-s windows every 0.25 s) of three 12-s recordings."""
    name = "recordings_library"
    gateway.CreateCollection(
        pb2.CreateCollectionRequest(name=name, purpose=Purpose.PURPOSE_RECORDINGS), timeout=TIMEOUT
    )
    clips = [ingest(gateway, name, wav(recording(seed))).clip.id for seed in (1, 2, 3)]
    return name, clips


def search(gateway, collection: str, **query) -> pb2.SearchAudioResponse:
    return gateway.SearchAudio(pb2.SearchAudioRequest(collection=collection, top_k=3, **query), timeout=TIMEOUT)


@pytest.mark.parametrize("start", [0.0, 4.3, 6.9])
def test_a_noisy_snippet_is_placed_in_its_recording(gateway, library, start):
    collection, clips = library
    snippet = recording(2)[int(start * RATE) : int((start + 5) * RATE)]
    response = search(gateway, collection, audio=wav(perturb.add_noise(snippet, 20, np.random.default_rng(0))))
    best = response.hits[0]
    assert best.clip.id == clips[1] and best.decision == pb2.DECISION_MATCH
    alignment = best.alignment
    # The query is cut every 0.1 s: 21 windows of 3 s over 5 s.
    assert alignment.query_windows == 21 and alignment.agreeing_windows >= 15
    assert alignment.offset_seconds == pytest.approx(start, abs=0.05)
    assert alignment.query_start_seconds == pytest.approx(0) and alignment.query_end_seconds == pytest.approx(5)
    assert alignment.clip_start_seconds == pytest.approx(start, abs=0.05)
    assert alignment.clip_end_seconds == pytest.approx(start + 5, abs=0.05)
    assert (best.start_seconds, best.end_seconds) == (alignment.clip_start_seconds, alignment.clip_end_seconds)
    # The score is the agreeing windows' share, weighted by their similarity.
    assert response.threshold.score < best.score <= alignment.agreeing_windows / alignment.query_windows
    assert response.threshold.source == pb2.MatchThreshold.SOURCE_DEFAULT
    assert response.threshold.false_positive_rate == pytest.approx(0.01)
    assert [hit.decision for hit in response.hits[1:]] == [pb2.DECISION_NO_MATCH] * 2


def test_leading_silence_moves_the_offset_and_nothing_else(gateway, library):
    collection, clips = library
    snippet = perturb.offset(recording(3)[2 * RATE : 7 * RATE], RATE, 0.5)
    best = search(gateway, collection, audio=wav(snippet)).hits[0]
    assert best.clip.id == clips[2] and best.decision == pb2.DECISION_MATCH
    assert best.alignment.offset_seconds == pytest.approx(2.0 - 0.5, abs=0.05)
    # Window-grained ranges: the first agreeing window starts in the silence and lines up after the offset.
    alignment = best.alignment
    assert alignment.query_start_seconds < 0.5 and alignment.query_end_seconds == pytest.approx(5.5)
    assert alignment.clip_start_seconds == pytest.approx(alignment.query_start_seconds + alignment.offset_seconds)


def test_a_recording_not_in_the_library_is_no_match(gateway, library):
    collection, _ = library
    response = search(gateway, collection, audio=wav(recording(99)[RATE : 6 * RATE]))
    assert response.hits and all(hit.decision == pb2.DECISION_NO_MATCH for hit in response.hits)
    assert all(hit.score < response.threshold.score for hit in response.hits)


def test_a_stored_clip_is_aligned_with_its_own_windows(gateway, library):
    collection, clips = library
    response = search(gateway, collection, clip_id=clips[0])
    assert clips[0] not in [hit.clip.id for hit in response.hits]
    # 12 s cut into 3-s windows every 0.25 s, the last aligned to the end.
    assert {hit.alignment.query_windows for hit in response.hits} == {37}
    assert response.threshold.source == pb2.MatchThreshold.SOURCE_DEFAULT


def test_a_vector_query_has_no_alignment_nor_decision(gateway, library):
    collection, _ = library
    response = search(gateway, collection, vector=pb2.VectorQuery(values=[1.0] + [0.0] * 383))
    assert response.hits and not response.HasField("threshold")
    assert all(not hit.HasField("alignment") and hit.decision == pb2.DECISION_UNSPECIFIED for hit in response.hits)


def test_other_models_keep_their_scores_without_alignment(gateway, new_collection):
    collection = new_collection(
        "segmented_logmel", segments=types_pb2.SegmentOptions(window_seconds=3, hop_seconds=0.25)
    )
    ingest(gateway, collection, wav(recording(5)))
    response = search(gateway, collection, audio=wav(recording(5)[: 5 * RATE]))
    assert not response.HasField("threshold") and not response.hits[0].HasField("alignment")


def test_calibration_measures_the_threshold_on_the_collections_recordings_and_searches_use_it(gateway):
    name = "recordings_calibrated"
    gateway.CreateCollection(
        pb2.CreateCollectionRequest(name=name, purpose=Purpose.PURPOSE_RECORDINGS), timeout=TIMEOUT
    )
    for seed in range(10, 14):
        ingest(gateway, name, wav(synth.recording(seed, 8, RATE)))
    request = pb2.CalibrateRecordingsRequest(collection=name, target_false_positive_rate=0.25)
    calibration = gateway.CalibrateRecordings(request, timeout=TIMEOUT).calibration
    assert calibration.scoring == "aligned_windows" and calibration.negative_trials == 4
    assert calibration.positive_trials == 0 and calibration.false_positive_rate <= 0.25
    assert 0 < calibration.threshold < 1
    response = search(gateway, name, audio=wav(synth.recording(11, 8, RATE)[RATE : 6 * RATE]))
    assert response.threshold.source == pb2.MatchThreshold.SOURCE_CALIBRATED
    assert response.threshold.score == pytest.approx(calibration.threshold)
    assert response.hits[0].decision == pb2.DECISION_MATCH


@pytest.mark.parametrize(
    ("request_fields", "code", "reason"),
    [
        (
            {"collection": "recordings_library", "target_false_positive_rate": 0.01},
            "FAILED_PRECONDITION",
            "TOO_FEW_RECORDINGS",
        ),
        (
            {"collection": "recordings_library", "target_false_positive_rate": 1.5},
            "INVALID_ARGUMENT",
            "INVALID_FALSE_POSITIVE_RATE",
        ),
        ({"collection": "recordings_library", "snippet_seconds": -1}, "INVALID_ARGUMENT", "INVALID_SNIPPET"),
        ({"collection": "no_such_collection"}, "NOT_FOUND", "COLLECTION_NOT_FOUND"),
    ],
)
def test_calibration_refuses_what_it_cannot_measure(gateway, library, request_fields, code, reason):
    with rpc_error(getattr(grpc.StatusCode, code), reason):
        gateway.CalibrateRecordings(pb2.CalibrateRecordingsRequest(**request_fields), timeout=TIMEOUT)


def test_calibration_of_another_kind_of_collection_is_refused(gateway, new_collection):
    with rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "NOT_RECORDINGS"):
        gateway.CalibrateRecordings(pb2.CalibrateRecordingsRequest(collection=new_collection("plain")), timeout=TIMEOUT)
