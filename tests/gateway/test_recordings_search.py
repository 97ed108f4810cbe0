"""Recordings searches through the public API: where and at what offset a copy matches, and MATCH or NO_MATCH."""

import numpy as np
import pytest

from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.tools import synth
from audiosearch.tools.evaluation import perturb
from audiosearch.type.v1 import types_pb2

from gateway_support import TIMEOUT, ingest

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
    # Window-grained ranges: the query's first window (silence and sound) lines up 1.5 s into the clip.
    assert best.alignment.query_start_seconds == 0
    assert best.alignment.clip_start_seconds == pytest.approx(best.alignment.offset_seconds)


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
