"""Windowing of a clip into one range per vector, for segment-level search in long audio."""

import math

from audiosearch.common import domain, errors

MAX_WINDOWS = 10_000


def validate(options: domain.SegmentOptions, min_window_seconds: float) -> None:
    """Refuse windows the model cannot embed, and hops that would skip audio or never advance."""
    if options.window_seconds < 0 or not math.isfinite(options.window_seconds):
        raise errors.InvalidArgument(
            "window_seconds must be a finite number >= 0 (0: one vector per clip)", "INVALID_SEGMENTS"
        )
    if not options.enabled:
        return
    if options.window_seconds < min_window_seconds:
        raise errors.InvalidArgument(
            f"window_seconds {options.window_seconds:g} is below the model's minimum of {min_window_seconds:g} s",
            "INVALID_SEGMENTS",
        )
    if not 0 < options.hop_seconds <= options.window_seconds:
        raise errors.InvalidArgument(
            f"hop_seconds must be > 0 and <= window_seconds ({options.window_seconds:g}), got {options.hop_seconds:g}",
            "INVALID_SEGMENTS",
        )


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
