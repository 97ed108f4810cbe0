"""`logmel`: a weights-free model from log-mel statistics. Serves offline and in tests; no download.

A clip becomes the shape of its mean spectrum, how much each band varies, and how fast it changes: enough to tell
tones from noise from speech-like sounds, nothing like a trained network's semantics.
"""

import numpy as np
import scipy.fft

from embedding_service.models import blas
from embedding_service.models.base import EmbeddingModel, l2_normalise

SAMPLE_RATE = 16000
N_FFT = 512
HOP = 160
N_MELS = 64
# Levels more than this far below the clip's loudest are clipped: the floor depends on the clip, not on its gain.
TOP_DB = 80.0
# Frames transformed at once: bounds the spectrum's memory (and BLAS's work buffers, kept per thread) on long clips.
FRAMES_PER_BLOCK = 2048


def _hz_to_mel(hz):
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def _mel_to_hz(mel):
    return 700.0 * (10.0 ** (np.asarray(mel) / 2595.0) - 1.0)


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangular filters, each at least one FFT bin wide so no band is empty."""
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2)) * n_fft / sample_rate
    bins = np.arange(n_fft // 2 + 1)[None, :]
    left, centre, right = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    left, right = np.minimum(left, centre - 1.0), np.maximum(right, centre + 1.0)
    rising = (bins - left) / (centre - left)
    falling = (right - bins) / (right - centre)
    return np.maximum(0.0, np.minimum(rising, falling))


class LogMelModel(EmbeddingModel):
    name = "logmel"
    sample_rate = SAMPLE_RATE
    dimension = 3 * N_MELS
    min_duration_seconds = 0.1
    description = (
        "weights-free log-mel statistics (64 bands at 16 kHz: spectral shape, variation, change); "
        "for offline use and tests"
    )

    def __init__(self) -> None:
        # The mel projection is one small product per block: on two BLAS threads the service spent 7.7 ms CPU per
        # 5-s clip at 4 concurrent embeds (load 3, 2 cores), 4.9 ms on one, and served 226 files/s against 270.
        blas.limit_numpy_blas()
        self._window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)
        self._filters = mel_filterbank(SAMPLE_RATE, N_FFT, N_MELS, 50.0, SAMPLE_RATE / 2).astype(np.float32)

    def log_mel(self, waveform: np.ndarray) -> np.ndarray:
        """(frames, N_MELS) log-mel energies in dB, floored TOP_DB below the clip's peak."""
        waveform = np.asarray(waveform, dtype=np.float32)
        if waveform.size < N_FFT:
            waveform = np.pad(waveform, (0, N_FFT - waveform.size))
        frames = np.lib.stride_tricks.sliding_window_view(waveform, N_FFT)[::HOP]  # a view: nothing copied
        energy = np.empty((len(frames), N_MELS), dtype=np.float32)
        for start in range(0, len(frames), FRAMES_PER_BLOCK):
            # scipy.fft keeps float32 (numpy's would widen to float64), several times faster here.
            spectrum = scipy.fft.rfft(frames[start : start + FRAMES_PER_BLOCK] * self._window, axis=1)
            energy[start : start + FRAMES_PER_BLOCK] = (spectrum.real**2 + spectrum.imag**2) @ self._filters.T
        mel = 10.0 * np.log10(np.maximum(energy, 1e-20, dtype=np.float32))
        return np.maximum(mel, mel.max() - TOP_DB)

    def _features(self, waveform: np.ndarray) -> np.ndarray:
        mel = self.log_mel(waveform)
        mean = mel.mean(axis=0)
        spread = mel.std(axis=0)
        change = np.abs(np.diff(mel, axis=0)).mean(axis=0) if len(mel) > 1 else np.zeros(N_MELS)
        # Centring the mean spectrum removes the clip's gain; the other two are differences, gain-free already.
        return np.concatenate([mean - mean.mean(), spread, change])

    def embed_batch(self, waveforms: list[np.ndarray]) -> np.ndarray:
        if not waveforms:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return l2_normalise(np.stack([self._features(waveform) for waveform in waveforms]))
