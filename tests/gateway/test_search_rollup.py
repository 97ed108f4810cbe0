"""Roll-up of a query's vectors into one hit per clip (gateway/core.py _RollUp), without servers; window to clip
is the search service's (tests/search)."""

import pytest

from audiosearch.runtime import domain
from gateway.core import _RollUp


def _roll_up(results):
    roll_up = _RollUp()
    roll_up.add(results)
    return roll_up.ranked(len(results))


def test_one_query_vector_keeps_its_clips_as_the_search_service_rolled_them_up():
    # The search service sends each clip once per query vector, with its best window (search_service/core.py).
    hits = [[domain.Hit(2, 0.8, 4, 6), domain.Hit(1, 0.9, 0, 2)]]
    assert _roll_up(hits) == [domain.Hit(1, 0.9, 0, 2), domain.Hit(2, 0.8, 4, 6)]


def test_a_clip_matching_every_query_window_beats_one_matching_a_single_window_better():
    hits = [
        [domain.Hit(7, 0.99, 0, 2), domain.Hit(3, 0.8, 0, 2)],
        [domain.Hit(3, 0.85, 2, 4), domain.Hit(9, 0.1, 0, 2)],
        [domain.Hit(3, 0.9, 4, 6)],
    ]
    rolled = _roll_up(hits)
    assert [hit.clip_id for hit in rolled] == [3, 7, 9]
    # The mean over the three query windows (missing ones count 0); the range is the best window's.
    assert rolled[0].score == pytest.approx((0.8 + 0.85 + 0.9) / 3)
    assert (rolled[0].start_seconds, rolled[0].end_seconds) == (4, 6)
    assert rolled[1].score == pytest.approx(0.99 / 3)


def test_no_hits_roll_up_to_nothing():
    assert _roll_up([]) == [] and _roll_up([[]]) == []
