import pytest

from audiosearch.runtime import domain, rules
from audiosearch.sdk import errors
from embedding_service import segments

RATE = 16000


def test_windows_step_by_the_hop_and_the_last_ends_with_the_clip():
    ranges = segments.windows(int(5.5 * RATE), RATE, window_seconds=2.0, hop_seconds=1.0)
    assert [(start / RATE, end / RATE) for start, end in ranges] == [
        (0.0, 2.0),
        (1.0, 3.0),
        (2.0, 4.0),
        (3.0, 5.0),
        (3.5, 5.5),
    ]


def test_windows_that_fit_exactly_are_not_repeated():
    ranges = segments.windows(6 * RATE, RATE, window_seconds=2.0, hop_seconds=2.0)
    assert ranges == [(0, 2 * RATE), (2 * RATE, 4 * RATE), (4 * RATE, 6 * RATE)]


def test_a_clip_shorter_than_the_window_is_one_window():
    assert segments.windows(RATE, RATE, window_seconds=3.0, hop_seconds=1.0) == [(0, RATE)]


def test_too_many_windows_are_refused():
    with pytest.raises(errors.InvalidArgument) as caught:
        segments.windows(600 * RATE, RATE, window_seconds=0.1, hop_seconds=0.01)
    assert caught.value.reason == "TOO_MANY_WINDOWS"


@pytest.mark.parametrize(
    "window, hop",
    [(0.05, 0.05), (2.0, 0.0), (2.0, -1.0), (2.0, 3.0), (2.0, 0.05), (-1.0, 0.5), (float("nan"), 1.0)],
)
def test_invalid_windowing_is_refused(window, hop):
    with pytest.raises(errors.InvalidArgument) as caught:
        rules.check_segments(domain.SegmentOptions(window, hop), min_window_seconds=0.1)
    assert caught.value.reason == "INVALID_SEGMENTS"


def test_no_window_means_one_vector_per_clip():
    rules.check_segments(domain.SegmentOptions(), min_window_seconds=0.1)
