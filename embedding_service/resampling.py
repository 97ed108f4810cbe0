"""Band-limited resampling of a stream of sample blocks, in memory bounded by the block size.

Each block is resampled with scipy's polyphase filter together with enough input on both sides to cover the
filter, and only the outputs the filter could compute in full are kept; so the result equals resample_poly over
the whole signal (bit for bit), with no artifacts at block joins.
"""

import math
from fractions import Fraction

import numpy as np
from scipy import signal

# Input samples per block of the one-shot resample(): its working memory, whatever the signal's length.
BLOCK = 1 << 16


class Resampler:
    """Takes `total` input samples at `from_rate` in blocks (push), gives them at `to_rate` (finish)."""

    def __init__(self, from_rate: int, to_rate: int, total: int) -> None:
        self.ratio = rate_ratio(from_rate, to_rate)
        up, down = self.ratio.numerator, self.ratio.denominator
        self.total = total
        self.output = np.empty(output_size(total, self.ratio), dtype=np.float32)
        self._filled = 0
        self._received = 0
        if up == down:
            return
        # resample_poly's own filter, built once rather than per block (it casts it to the samples' dtype).
        max_rate = max(up, down)
        self._filter = signal.firwin(2 * 10 * max_rate + 1, 1.0 / max_rate, window=("kaiser", 5.0)).astype(np.float32)
        # Input on each side of a block that reaches its outputs through the filter (and its padding), rounded
        # to whole periods of `down` so that every block starts on an output sample.
        reach = math.ceil((self._filter.size + 2 * down) / up) + 1
        self._context = math.ceil(reach / down) * down
        self._pending = np.zeros(0, dtype=np.float32)
        self._origin = 0  # input index of _pending[0]
        self._next = 0  # first input index whose outputs are still to be written

    @property
    def received(self) -> int:
        """Input samples pushed so far."""
        return self._received

    def push(self, block: np.ndarray) -> None:
        """Add the next input samples; writes every output that no later input can change."""
        if self._received + block.size > self.total:
            raise ValueError(f"more than the {self.total} samples promised")
        self._received += block.size
        if self.ratio == 1:
            self._write(block)
            return
        self._pending = np.concatenate([self._pending, block])
        down = self.ratio.denominator
        ready = (self._received - self._context) // down * down
        if ready > self._next:
            self._emit(self._pending[: ready + self._context - self._origin], ready)

    def finish(self) -> np.ndarray:
        """The resampled signal; only valid once all `total` samples were pushed."""
        if self.ratio != 1 and self._received > self._next:
            self._emit(self._pending, self._received)
        return self.output[: self._filled]

    def _emit(self, segment: np.ndarray, end: int) -> None:
        """Write the outputs of inputs [_next, end), from `segment` (inputs from _origin, context included)."""
        up, down = self.ratio.numerator, self.ratio.denominator
        resampled = signal.resample_poly(segment, up, down, window=self._filter)
        first = (self._next - self._origin) * up // down
        last = output_size(end - self._origin, self.ratio)
        self._write(resampled[first:last])
        self._next = end
        keep_from = max(0, end - self._context)
        self._pending = self._pending[keep_from - self._origin :].copy()
        self._origin = keep_from

    def _write(self, samples: np.ndarray) -> None:
        self.output[self._filled : self._filled + samples.size] = samples
        self._filled += samples.size


def rate_ratio(from_rate: int, to_rate: int) -> Fraction:
    """to_rate / from_rate as the resampler applies it (denominator at most 1000, to keep its filter short)."""
    return Fraction(to_rate, from_rate).limit_denominator(1000)


def output_size(samples: int, ratio: Fraction) -> int:
    """How many samples resample_poly gives for `samples` input samples at `ratio` (to_rate / from_rate)."""
    return -(-samples * ratio.numerator // ratio.denominator)


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Samples at `to_rate`, band-limited (polyphase FIR anti-aliasing filter) so no alias folds into the result."""
    if from_rate == to_rate:
        return samples
    resampler = Resampler(from_rate, to_rate, samples.size)
    for start in range(0, samples.size, BLOCK):
        resampler.push(samples[start : start + BLOCK])
    return resampler.finish()
