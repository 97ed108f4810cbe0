"""Windowing of a clip into one range per vector, for segment-level search in long audio."""

import math

from audiosearch.sdk import errors

MAX_WINDOWS = 10_000


def windows(n_samples: int, sample_rate: int, window_seconds: float, hop_seconds: float) -> list[tuple[int, int]]:
    """(start, end) sample ranges covering the clip: every hop from the start, the last aligned to the clip's end.

    A clip no longer than one window is a single window.
    """
    window = max(1, round(window_seconds * sample_rate))
    hop = max(1, round(hop_seconds * sample_rate))
    if n_samples <= window:
        return [(0, n_samples)]
    count = math.ceil((n_samples - window) / hop) + 1
    if count > MAX_WINDOWS:
        raise errors.InvalidArgument(
            f"{count} windows exceed the limit of {MAX_WINDOWS}: use a longer hop or window",
            "TOO_MANY_WINDOWS",
        )
    starts = [index * hop for index in range(count - 1)] + [n_samples - window]
    return [(start, start + window) for start in starts]
