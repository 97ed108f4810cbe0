"""Perturbations a near-duplicate of a recording goes through: noise, gain, crop, resampling, time offset.

Pure numpy, deterministic given the rng; every function takes and returns float32 mono samples. Lossy re-encoding
needs a codec and lives in codec.py.
"""

import numpy as np


def add_noise(samples: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """White noise at `snr_db` below the clip's mean power."""
    samples = np.asarray(samples, dtype=np.float32)
    power = float(np.mean(samples.astype(np.float64) ** 2))
    noise = rng.standard_normal(samples.size) * np.sqrt(power / 10 ** (snr_db / 10))
    return (samples + noise).astype(np.float32)


def gain(samples: np.ndarray, db: float) -> np.ndarray:
    """The clip `db` louder (negative: quieter), clipped to [-1, 1] as a file would be."""
    return np.clip(np.asarray(samples, dtype=np.float32) * 10 ** (db / 20), -1.0, 1.0).astype(np.float32)


def crop(samples: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """The clip with `fraction` of its length cut away, split at random between its start and its end."""
    if not 0 <= fraction < 1:
        raise ValueError(f"crop fraction must be in [0, 1), got {fraction}")
    samples = np.asarray(samples, dtype=np.float32)
    removed = int(round(samples.size * fraction))
    start = int(rng.integers(0, removed + 1))
    return samples[start : samples.size - (removed - start)].copy()


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Band-limited resampling by the FFT: content above the lower Nyquist frequency is removed, nothing aliases."""
    samples = np.asarray(samples, dtype=np.float32)
    if from_rate == to_rate:
        return samples.copy()
    n_out = max(1, int(round(samples.size * to_rate / from_rate)))
    spectrum = np.fft.rfft(samples.astype(np.float64))
    bins = n_out // 2 + 1
    spectrum = spectrum[:bins] if bins <= spectrum.size else np.pad(spectrum, (0, bins - spectrum.size))
    return (np.fft.irfft(spectrum, n_out) * (n_out / samples.size)).astype(np.float32)


def round_trip(samples: np.ndarray, rate: int, via_rate: int) -> np.ndarray:
    """Resampled to `via_rate` and back to `rate` (e.g. 16 kHz -> 8 kHz -> 16 kHz loses everything above 4 kHz)."""
    return resample(resample(samples, rate, via_rate), via_rate, rate)[: np.asarray(samples).size]


def offset(samples: np.ndarray, rate: int, seconds: float) -> np.ndarray:
    """The clip shifted in time: positive `seconds` prepends that much silence, negative drops that much."""
    samples = np.asarray(samples, dtype=np.float32)
    shift = int(round(abs(seconds) * rate))
    if seconds >= 0:
        return np.concatenate([np.zeros(shift, dtype=np.float32), samples])
    return samples[min(shift, samples.size - 1) :].copy()
