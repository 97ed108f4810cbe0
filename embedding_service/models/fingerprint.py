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


class FingerprintModel(EmbeddingModel):
    name = "fingerprint"
    sample_rate = SAMPLE_RATE
    dimension = N_BANDS * N_SLOTS
    min_duration_seconds = 0.25
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

    def band_energies(self, waveform: np.ndarray) -> np.ndarray:
        """(frames, N_BANDS) band energies in dB, floored FLOOR_DB below the loudest."""
        waveform = np.asarray(waveform, dtype=np.float32)
        if waveform.size < N_FFT + HOP * (N_SLOTS - 1):
            waveform = np.pad(waveform, (0, N_FFT + HOP * (N_SLOTS - 1) - waveform.size))
        frames = np.lib.stride_tricks.sliding_window_view(waveform, N_FFT)[::HOP] * self._window
        spectrum = scipy.fft.rfft(frames, axis=1)[:, : self._bins]
        power = spectrum.real**2 + spectrum.imag**2
        bands = 10.0 * np.log10(np.maximum(power @ self._filters.T, 1e-20, dtype=np.float32))
        return np.maximum(bands, bands.max() - FLOOR_DB)

    def _features(self, waveform: np.ndarray) -> np.ndarray:
        bands = self.band_energies(waveform)
        # Pool frames into N_SLOTS equal slots, so windows of any length give the same shape.
        edges = np.linspace(0, len(bands), N_SLOTS + 1).round().astype(int)
        slots = np.stack([bands[edges[i] : max(edges[i + 1], edges[i] + 1)].mean(axis=0) for i in range(N_SLOTS)])
        slots = slots - slots.mean(axis=0, keepdims=True)
        slots = slots - slots.mean(axis=1, keepdims=True)
        return slots.T.ravel()

    def embed_batch(self, waveforms: list[np.ndarray]) -> np.ndarray:
        if not waveforms:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return l2_normalise(np.stack([self._features(waveform) for waveform in waveforms]))
