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


def add_pink_noise(samples: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Pink (1/f power) noise at `snr_db` below the clip's mean power: most of its power is where speech is."""
    samples = np.asarray(samples, dtype=np.float32)
    spectrum = np.fft.rfft(rng.standard_normal(samples.size))
    spectrum[1:] /= np.sqrt(np.arange(1, spectrum.size))
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, samples.size)
    power = float(np.mean(samples.astype(np.float64) ** 2))
    noise *= np.sqrt(power / 10 ** (snr_db / 10) / max(float(np.mean(noise**2)), 1e-30))
    return (samples + noise).astype(np.float32)


def band_limit(samples: np.ndarray, rate: int, low_hz: float, high_hz: float) -> np.ndarray:
    """Only what lies between `low_hz` and `high_hz` (a telephone band is 300-3400 Hz), by the FFT."""
    samples = np.asarray(samples, dtype=np.float32)
    spectrum = np.fft.rfft(samples.astype(np.float64))
    frequencies = np.fft.rfftfreq(samples.size, 1 / rate)
    spectrum[(frequencies < low_hz) | (frequencies > high_hz)] = 0
    return np.fft.irfft(spectrum, samples.size).astype(np.float32)


def speed(samples: np.ndarray, factor: float) -> np.ndarray:
    """Played `factor` times faster, pitch and tempo together (a tape or a resampler run fast): 1.02 is 2% faster."""
    samples = np.asarray(samples, dtype=np.float32)
    return resample(samples, int(round(samples.size * factor)), samples.size)


def stretch(samples: np.ndarray, factor: float, frame: int = 1024) -> np.ndarray:
    """`factor` times faster at the same pitch (tempo only), by a phase vocoder: 1.05 is 5% shorter."""
    samples = np.asarray(samples, dtype=np.float64)
    hop = frame // 4
    window = np.hanning(frame)
    padded = np.pad(samples, (frame, frame))
    starts = np.arange(0, padded.size - frame, hop)
    spectra = np.stack([np.fft.rfft(padded[start : start + frame] * window) for start in starts])
    expected = 2 * np.pi * hop * np.arange(spectra.shape[1]) / frame
    positions = np.arange(0, len(spectra) - 1, factor)
    phase = np.angle(spectra[0])
    out = np.zeros(len(positions) * hop + frame)
    for index, position in enumerate(positions):
        base = int(position)
        fraction = position - base
        magnitude = (1 - fraction) * np.abs(spectra[base]) + fraction * np.abs(spectra[base + 1])
        out[index * hop : index * hop + frame] += np.fft.irfft(magnitude * np.exp(1j * phase), frame) * window
        advance = np.angle(spectra[base + 1]) - np.angle(spectra[base]) - expected
        phase += expected + (advance + np.pi) % (2 * np.pi) - np.pi
    # Hann windows at a quarter-frame hop, applied twice, sum to 1.5.
    out = out[frame : frame + int(round(samples.size / factor))] / 1.5
    return out.astype(np.float32)
