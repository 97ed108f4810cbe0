"""`fingerprint`: a weights-free model that identifies a recording, not its class ("is this the same recording?").

A window becomes its log band-energy pattern over time: 32 bands spaced on the mel scale from 150 Hz to 3.9 kHz
(what survives an 8 kHz telephone round trip and low-bitrate codecs), pooled into 16 time slots, with each band's
mean and each slot's mean removed. Removing them cancels gain, gain changes and fixed equalisation; what is left is
the order of events in the recording, which two recordings of the same speaker or sound class do not share. Cosine
similarity is then the correlation of two spectrogram patches.

Meant for segmented collections (e.g. window 2 s, hop 0.25 s): each window is a vector, a query is cut into
windows the same way, and the gateway rolls the window matches up per clip, so crops and offsets still line up to
within half a hop.
"""

import numpy as np
import scipy.fft

from embedding_service.models.base import EmbeddingModel, l2_normalise
from embedding_service.models.logmel import mel_filterbank

SAMPLE_RATE = 16000
N_FFT = 512
HOP = 160
N_BANDS = 32
N_SLOTS = 12
FMIN, FMAX = 150.0, 3900.0
# Band energies are floored this far below the window's loudest, so near-silence (where added noise dominates)
# carries no pattern of its own.
FLOOR_DB = 50.0
# Leading and trailing 10-ms frames this far below the loudest are silence, and cut before the pattern is taken.
SILENCE_DB = 60.0
# The shortest input framed as is (N_SLOTS frames); shorter input is padded with silence at its end.
MIN_SAMPLES = N_FFT + HOP * (N_SLOTS - 1)


class FingerprintModel(EmbeddingModel):
    name = "fingerprint"
    sample_rate = SAMPLE_RATE
    dimension = N_BANDS * N_SLOTS
    min_duration_seconds = 0.1
    description = (
        "weights-free recording fingerprint (band-energy pattern over time, 150 Hz-3.9 kHz); finds the same "
        "recording after noise, gain, crops, resampling and lossy codecs; use with segments (window 2 s, hop 0.25 s)"
    )

    def __init__(self) -> None:
        self._window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)
        filters = mel_filterbank(SAMPLE_RATE, N_FFT, N_BANDS, FMIN, FMAX).astype(np.float32)
        # Only the FFT bins below FMAX feed a band; the rest are never computed.
        self._bins = int(np.nonzero(filters.any(axis=0))[0].max()) + 1
        self._filters = filters[:, : self._bins]

    def _raw_bands(self, waveform: np.ndarray) -> np.ndarray:
        """(frames, N_BANDS) band energies in dB, one frame every HOP samples, no floor."""
        frames = np.lib.stride_tricks.sliding_window_view(waveform, N_FFT)[::HOP] * self._window
        spectrum = scipy.fft.rfft(frames, axis=1)[:, : self._bins]
        power = spectrum.real**2 + spectrum.imag**2
        return 10.0 * np.log10(np.maximum(power @ self._filters.T, 1e-20, dtype=np.float32))

    def band_energies(self, waveform: np.ndarray) -> np.ndarray:
        """(frames, N_BANDS) band energies in dB, floored FLOOR_DB below the loudest, from the first sound to the
        last: leading and trailing silence (a sound placed later in its file, or padded) do not move the pattern."""
        waveform = np.asarray(waveform, dtype=np.float32)
        first, last = audible_span(waveform)
        waveform = waveform[first:last]
        if waveform.size < MIN_SAMPLES:
            waveform = np.pad(waveform, (0, MIN_SAMPLES - waveform.size))
        return _floored(self._raw_bands(waveform))

    def embed_batch(self, waveforms: list[np.ndarray]) -> np.ndarray:
        if not waveforms:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return l2_normalise(np.stack([_pattern(self.band_energies(waveform)) for waveform in waveforms]))

    def embed_windows(self, samples: np.ndarray, ranges: list[tuple[int, int]]) -> np.ndarray:
        """One spectrogram and one frame-power track for the part of the clip the windows cover (the core passes a
        long clip's windows a batch at a time), sliced per window: a window starting on a frame boundary (the 0.1-s
        query hop and 0.25-s clip hop are both multiples of HOP), trimmed of its silent edges, has exactly the
        frames it would have alone."""
        if not ranges:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # From a frame boundary, so the frames keep their phase.
        base = min(start for start, _ in ranges) // HOP * HOP
        samples = np.asarray(samples[base : max(end for _, end in ranges)], dtype=np.float32)
        shared = self._raw_bands(samples) if samples.size >= N_FFT else np.zeros((0, N_BANDS), np.float32)
        powers = _frame_powers(samples)
        vectors = []
        for start, end in ((start - base, end - base) for start, end in ranges):
            size = min(end, samples.size) - start
            if start % HOP == 0:
                first, last = _audible(powers[start // HOP : start // HOP + size // HOP], size)
                begin, count = (start + first) // HOP, (last - first - N_FFT) // HOP + 1
                if last - first >= MIN_SAMPLES and begin + count <= len(shared):
                    vectors.append(_pattern(_floored(shared[begin : begin + count])))
                    continue
            vectors.append(_pattern(self.band_energies(samples[start:end])))
        return l2_normalise(np.stack(vectors))


def _floored(bands: np.ndarray) -> np.ndarray:
    return np.maximum(bands, bands.max() - FLOOR_DB)


def _pattern(bands: np.ndarray) -> np.ndarray:
    """The window's band energies pooled into N_SLOTS equal slots (so windows of any length give the same shape),
    each band's and each slot's mean removed."""
    edges = np.linspace(0, len(bands), N_SLOTS + 1).round().astype(int)
    slots = np.add.reduceat(bands, edges[:-1], axis=0) / np.diff(edges)[:, None]
    slots = slots - slots.mean(axis=0, keepdims=True)
    slots = slots - slots.mean(axis=1, keepdims=True)
    return slots.T.ravel()


def audible_span(waveform: np.ndarray) -> tuple[int, int]:
    """The samples from the first HOP-long frame that is not silence to the end of the last (all of it if all is)."""
    return _audible(_frame_powers(waveform), waveform.size)


def _frame_powers(waveform: np.ndarray) -> np.ndarray:
    """The mean power of each whole HOP-long frame."""
    frames = waveform.size // HOP
    return np.mean(np.square(waveform[: frames * HOP].reshape(frames, HOP), dtype=np.float64), axis=1)


def _audible(power: np.ndarray, size: int) -> tuple[int, int]:
    """audible_span of `size` samples from their frames' powers."""
    if power.size == 0:
        return 0, size
    audible = np.nonzero(power > power.max() * 10 ** (-SILENCE_DB / 10))[0]
    if not audible.size:
        return 0, size
    last = size if audible[-1] == power.size - 1 else (audible[-1] + 1) * HOP
    return int(audible[0] * HOP), int(last)
