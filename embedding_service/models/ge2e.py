"""`ge2e`: a pretrained GE2E speaker encoder (40 mel bands, 3 LSTM layers of 256, 256-d), run in numpy.

The architecture is PaddleSpeech's GE2E speaker encoder; the weights are the voice encoder that the `resemblyzer`
wheel carries (`resemblyzer/pretrained.pt`, Apache-2.0), installed with `pip install --no-deps resemblyzer==0.1.4`
(its torch requirement is not needed: ge2e_weights reads the checkpoint with pickle and numpy). Inference follows
resemblyzer's `embed_utterance`: volume raised to -30 dBFS (never lowered), a 40-band slaney mel power spectrogram
(25 ms / 10 ms at 16 kHz, as librosa computes it), 1.6-s partial utterances at 1.3 per second (the last kept when
at least 75% covered), each embedded and unit-normed, then averaged and normed again.

One difference from resemblyzer's `preprocess_wav`: long silences are trimmed with the same windows, smoothing and
dilation, but an energy detector stands in for webrtcvad (a C library) to decide which 30-ms windows hold voice.
On LibriSpeech half-utterances the two agree on 95% of windows; vectors have median cosine 0.99 to resemblyzer's.
"""

import logging
import pathlib

import numpy as np
import scipy.fft
from scipy import ndimage

from embedding_service.models import blas, ge2e_weights
from embedding_service.models.base import EmbeddingModel, l2_normalise

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = ge2e_weights.N_MELS
PARTIAL_FRAMES = 160  # 1.6 s
PARTIALS_PER_SECOND = 1.3
MIN_COVERAGE = 0.75
TARGET_DBFS = -30.0
# Partial utterances per LSTM pass: bounds the memory of the gate activations (~0.7 MB per partial).
PARTIAL_BATCH = 128
_INT16_MAX = 2**15 - 1
# Silence trimming (resemblyzer's hparams): 30-ms windows, votes smoothed over 8, gaps kept up to 6 windows.
VAD_WINDOW = 480
VAD_SMOOTHING = 8
VAD_MAX_SILENCE = 6
# A window holds voice when it is within 40 dB of the loudest and 3 dB above the clip's quietest tenth (its noise
# floor); thresholds chosen for agreement with webrtcvad (mode 3) on LibriSpeech.
VAD_RANGE_DB = 40.0
VAD_FLOOR_PERCENTILE = 10
VAD_MARGIN_DB = 3.0

log = logging.getLogger(__name__)


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    # Slaney's scale (librosa's default): linear below 1 kHz, logarithmic above.
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / (200.0 / 3)
    log_region = hz >= 1000.0
    return np.where(log_region, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), mel)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    hz = mel * (200.0 / 3)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)), hz)


def slaney_mel_filters(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) area-normalised triangles from 0 Hz to Nyquist, as librosa.filters.mel makes them."""
    bins_hz = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sample_rate / 2.0), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - bins_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return (weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32)


def normalise_volume(waveform: np.ndarray) -> np.ndarray:
    """Raised to TARGET_DBFS RMS if quieter (resemblyzer's normalize_volume with increase_only); silence stays."""
    rms = np.sqrt(np.mean((waveform.astype(np.float64) * _INT16_MAX) ** 2)) if waveform.size else 0.0
    if rms == 0.0:
        return waveform
    change = TARGET_DBFS - 20.0 * np.log10(rms / _INT16_MAX)
    return (waveform * 10.0 ** (change / 20.0)).astype(np.float32) if change > 0 else waveform


def voiced_windows(waveform: np.ndarray) -> np.ndarray:
    """One flag per whole VAD_WINDOW of `waveform`: whether its energy stands out as voice."""
    n = waveform.size // VAD_WINDOW
    power = np.mean(waveform[: n * VAD_WINDOW].reshape(n, VAD_WINDOW).astype(np.float64) ** 2, axis=1)
    level = 10.0 * np.log10(power + 1e-10)
    floor = np.percentile(level, VAD_FLOOR_PERCENTILE)
    return (level > level.max() - VAD_RANGE_DB) & (level > floor + VAD_MARGIN_DB)


def trim_long_silences(waveform: np.ndarray) -> np.ndarray:
    """Silences longer than VAD_MAX_SILENCE windows removed (resemblyzer's trim_long_silences, energy-voted); a
    clip that would keep less than half a second is returned whole."""
    if waveform.size < VAD_WINDOW:
        return waveform
    flags = voiced_windows(waveform).astype(np.float64)
    # resemblyzer's moving average: zero-padded, centred, then rounded to a vote.
    padded = np.concatenate([np.zeros((VAD_SMOOTHING - 1) // 2), flags, np.zeros(VAD_SMOOTHING // 2)])
    votes = np.round(np.convolve(padded, np.ones(VAD_SMOOTHING), "valid") / VAD_SMOOTHING).astype(bool)
    keep = ndimage.binary_dilation(votes, np.ones(VAD_MAX_SILENCE + 1, dtype=bool))
    trimmed = waveform[: keep.size * VAD_WINDOW][np.repeat(keep, VAD_WINDOW)]
    return trimmed if trimmed.size >= SAMPLE_RATE // 2 else waveform


def partial_starts(n_samples: int) -> list[int]:
    """First mel frame of each partial utterance (resemblyzer's compute_partial_slices at rate 1.3, 0.75)."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = int(np.round((SAMPLE_RATE / PARTIALS_PER_SECOND) / HOP))
    starts = list(range(0, max(1, n_frames - PARTIAL_FRAMES + step + 1), step))
    coverage = (n_samples - starts[-1] * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < MIN_COVERAGE and len(starts) > 1:
        starts.pop()
    return starts


class Ge2eModel(EmbeddingModel):
    name = "ge2e"
    sample_rate = SAMPLE_RATE
    dimension = ge2e_weights.EMBEDDING
    # Shorter clips would be mostly zero padding inside the 1.6-s partial utterance.
    min_duration_seconds = 0.5
    description = (
        "GE2E speaker encoder (3x256 LSTM on 40 mel bands at 16 kHz, 256-d), pretrained weights of resemblyzer's "
        "voice encoder; for speaker identity"
    )

    def __init__(self, weights_path: str | pathlib.Path | None = None) -> None:
        """Weights from `weights_path`, or from the installed resemblyzer package when None."""
        self._weights = None
        self._reason = ""
        path = pathlib.Path(weights_path) if weights_path else ge2e_weights.default_weights_path()
        if path is None:
            self._reason = (
                f"its weights come with the resemblyzer package, which is not installed: run "
                f"`{ge2e_weights.INSTALL_HINT}`, or set AUDIOSEARCH_EMBEDDING_GE2E_WEIGHTS to a pretrained.pt"
            )
        elif not path.is_file():
            self._reason = (
                f"weights file {path} not found: run `{ge2e_weights.INSTALL_HINT}`, or set "
                f"AUDIOSEARCH_EMBEDDING_GE2E_WEIGHTS to resemblyzer's pretrained.pt"
            )
        else:
            try:
                self._weights = ge2e_weights.load_weights(path)
            except ge2e_weights.WeightsError as error:
                self._reason = f"{error}; reinstall with `{ge2e_weights.INSTALL_HINT}`"
        if self._weights is None:
            log.warning("model ge2e unavailable: %s", self._reason)
            return
        self._window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
        self._filters = slaney_mel_filters(SAMPLE_RATE, N_FFT, N_MELS)
        w = self._weights
        # Per layer: input weights transposed, hidden weights transposed, and the two biases summed.
        self._layers = [
            (w[f"lstm.weight_ih_l{k}"].T.copy(), w[f"lstm.weight_hh_l{k}"].T.copy(),
             w[f"lstm.bias_ih_l{k}"] + w[f"lstm.bias_hh_l{k}"])
            for k in range(ge2e_weights.LAYERS)
        ]  # fmt: skip
        self._linear = (w["linear.weight"].T.copy(), w["linear.bias"])
        # The LSTM's ~500 small products per clip on one BLAS thread: see blas.limit_numpy_blas.
        blas.limit_numpy_blas()

    @property
    def unavailable_reason(self) -> str:
        return self._reason

    def mel_spectrogram(self, waveform: np.ndarray) -> np.ndarray:
        """(frames, N_MELS) mel power, one frame per HOP; frames centred, the signal zero-padded by N_FFT // 2."""
        padded = np.pad(np.asarray(waveform, dtype=np.float32), N_FFT // 2)
        frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP] * self._window
        spectrum = scipy.fft.rfft(frames, axis=1)
        return (spectrum.real**2 + spectrum.imag**2) @ self._filters.T

    def _partials(self, waveform: np.ndarray) -> np.ndarray:
        waveform = trim_long_silences(normalise_volume(np.asarray(waveform, dtype=np.float32)))
        starts = partial_starts(waveform.size)
        end = (starts[-1] + PARTIAL_FRAMES) * HOP
        if end >= waveform.size:
            waveform = np.pad(waveform, (0, end - waveform.size))
        mel = self.mel_spectrogram(waveform)
        return np.stack([mel[start : start + PARTIAL_FRAMES] for start in starts])

    def encode_partials(self, mels: np.ndarray) -> np.ndarray:
        """(n, PARTIAL_FRAMES, N_MELS) mel power -> (n, 256) unit vectors: the LSTM's last state through the
        linear layer and a ReLU."""
        x = mels.astype(np.float32)
        n, steps, _ = x.shape
        for w_ih, w_hh, bias in self._layers:
            # Input projections of every step at once; only the recurrent product has to run step by step.
            gates_in = (x.reshape(n * steps, -1) @ w_ih + bias).reshape(n, steps, -1)
            h = np.zeros((n, ge2e_weights.HIDDEN), dtype=np.float32)
            c = np.zeros_like(h)
            out = np.empty((n, steps, ge2e_weights.HIDDEN), dtype=np.float32)
            for t in range(steps):
                gates = gates_in[:, t] + h @ w_hh
                i, f, g, o = np.split(gates, 4, axis=1)  # torch's gate order
                c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
                h = _sigmoid(o) * np.tanh(c)
                out[:, t] = h
            x = out
        weight, bias = self._linear
        return l2_normalise(np.maximum(h @ weight + bias, 0.0))

    def embed_batch(self, waveforms: list[np.ndarray]) -> np.ndarray:
        if not waveforms:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._weights is None:
            raise RuntimeError(f"model ge2e is not available: {self._reason}")
        partials = [self._partials(waveform) for waveform in waveforms]
        owners = np.repeat(np.arange(len(waveforms)), [len(p) for p in partials])
        mels = np.concatenate(partials)
        embeddings = np.concatenate(
            [self.encode_partials(mels[first : first + PARTIAL_BATCH]) for first in range(0, len(mels), PARTIAL_BATCH)]
        )
        sums = np.zeros((len(waveforms), self.dimension), dtype=np.float64)
        np.add.at(sums, owners, embeddings)
        return l2_normalise(sums)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))
