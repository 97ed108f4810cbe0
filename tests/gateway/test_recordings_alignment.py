"""Voting a query's window matches into one aligned match per clip (gateway/recordings.py), without servers."""

import pytest

from audiosearch.runtime import domain
from gateway.recordings import Aligner, query_segments

HOP = 0.25


def aligned(spans, results):
    aligner = Aligner(spans, HOP)
    aligner.add(results)
    return aligner.ranked(len(spans)), aligner.alignments


def test_windows_that_agree_on_an_offset_make_the_score_and_the_offset():
    # Query windows every 0.1 s; clip 1 matches at offset 2.03 (each window's best clip window is the nearest one on
    # the clip's 0.25-s grid), with one stray window; clip 2 matches everywhere at random.
    spans = [(start / 10, start / 10 + 3) for start in range(5)]
    clip_one = [domain.Hit(1, 0.9, round((start / 10 + 2.03) / HOP) * HOP, 0) for start in range(4)]
    clip_one.append(domain.Hit(1, 0.5, 7.5, 10.5))
    clip_two = [domain.Hit(2, 0.8, start, start + 3) for start in (0.0, 5.0, 1.25, 9.0, 3.0)]
    ranked, alignments = aligned(spans, [[one, two] for one, two in zip(clip_one, clip_two, strict=True)])
    assert [hit.clip_id for hit in ranked] == [1, 2]
    # Four of five windows agree, each counted by its similarity.
    assert ranked[0].score == pytest.approx(4 * 0.9 / 5)
    assert ranked[1].score == pytest.approx(0.8 / 5)
    first = alignments[1]
    assert (first.agreeing_windows, first.query_windows) == (4, 5)
    # Offsets 2.0, 2.15, 2.05, 1.95: their mean is within 0.03 s of the truth, below the 0.25-s hop.
    assert first.offset_seconds == pytest.approx(2.03, abs=0.03)
    assert (first.query_start_seconds, first.query_end_seconds) == (0.0, 3.3)
    assert first.clip_start_seconds == pytest.approx(first.offset_seconds)
    assert (ranked[0].start_seconds, ranked[0].end_seconds) == (first.clip_start_seconds, first.clip_end_seconds)


def test_a_query_before_the_clip_start_is_placed_from_zero():
    ranked, alignments = aligned([(0.0, 3.0), (0.1, 3.1)], [[domain.Hit(4, 0.7, 0.0, 3.0)]] * 2)
    assert alignments[4].offset_seconds == pytest.approx(-0.05)
    assert alignments[4].clip_start_seconds == 0.0
    assert ranked[0].score == pytest.approx(0.7)


def test_no_hits_align_to_nothing():
    assert aligned([(0.0, 3.0)], [[]]) == ([], {})


def test_queries_are_cut_finer_than_the_clips_but_never_below_the_shortest_hop():
    assert query_segments(domain.SegmentOptions(3.0, 0.25)) == domain.SegmentOptions(3.0, 0.1)
    assert query_segments(domain.SegmentOptions(2.0, 1.0)) == domain.SegmentOptions(2.0, 0.25)
    assert query_segments(domain.SegmentOptions(1.0, 0.1)) == domain.SegmentOptions(1.0, 0.1)
