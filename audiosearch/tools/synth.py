"""Deterministic synthetic sound classes for the demo, the tests and evaluation (no recordings needed).

Each class has a distinct spectral signature; the seed draws the within-class variation (pitch, sweep range, rate,
gain, a little background noise), so `generate(cls, seed)` is the same clip on every machine.
"""

import io
import pathlib

import numpy as np
import soundfile
from scipy import signal

CLASSES: tuple[str, ...] = ("tone", "chirp", "white_noise", "brown_noise", "clicks", "vowel", "siren")

# (F1, F2, F3) in Hz of a few vowels; the vowel class draws one and jitters it.
_VOWEL_FORMANTS = ((730, 1090, 2440), (270, 2290, 3010), (530, 1840, 2480), (570, 840, 2410), (300, 870, 2240))
_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3"}


def _tone(rng: np.random.Generator, t: np.ndarray, rate: int) -> np.ndarray:
    f0 = rng.uniform(200, 400)
    harmonics = [k for k in range(1, 9) if k * f0 < rate / 2]
    return sum(np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 2 * np.pi)) * 0.6**k for k in harmonics)


def _chirp(rng: np.random.Generator, t: np.ndarray, rate: int) -> np.ndarray:
    start = rng.uniform(200, 500)
    end = min(rng.uniform(3000, 6000), 0.45 * rate)
    return signal.chirp(t, f0=start, t1=t[-1], f1=end, method="logarithmic")


def _white_noise(rng: np.random.Generator, t: np.ndarray, rate: int) -> np.ndarray:
    return rng.standard_normal(t.size)


def _brown_noise(rng: np.random.Generator, t: np.ndarray, rate: int) -> np.ndarray:
    walk = np.cumsum(rng.standard_normal(t.size))
    # The high-pass removes the random walk's drift, which would otherwise dominate as a DC offset.
    sos = signal.butter(2, 20, "highpass", fs=rate, output="sos")
    return signal.sosfilt(sos, walk)


def _clicks(rng: np.random.Generator, t: np.ndarray, rate: int) -> np.ndarray:
    period = int(rate / rng.uniform(4, 15))
    out = np.zeros(t.size)
    out[rng.integers(0, period) :: period] = 1.0
    # A short decaying burst per click, so the clicks have some body rather than one sample each.
    burst = np.exp(-np.arange(int(0.002 * rate)) / (0.0005 * rate)) * rng.standard_normal(int(0.002 * rate))
    return np.convolve(out, burst)[: t.size]


def _vowel(rng: np.random.Generator, t: np.ndarray, rate: int) -> np.ndarray:
    f0 = rng.uniform(100, 220)
    # Glottal pulse train with a little vibrato, through one resonator per formant.
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.02 * np.sin(2 * np.pi * 5 * t))) / rate
    pulses = np.diff(np.floor(phase / (2 * np.pi)), prepend=0.0)
    source = signal.lfilter([1.0], [1.0, -0.95], pulses)
    formants = _VOWEL_FORMANTS[rng.integers(len(_VOWEL_FORMANTS))]
    out = np.zeros(t.size)
    for index, formant in enumerate(formants):
        centre = min(formant * rng.uniform(0.9, 1.1), 0.45 * rate)
        b, a = signal.iirpeak(centre, Q=centre / 80, fs=rate)
        out += signal.lfilter(b, a, source) * 0.5**index
    return out


def _siren(rng: np.random.Generator, t: np.ndarray, rate: int) -> np.ndarray:
    centre = rng.uniform(700, 1200)
    depth = rng.uniform(0.2, 0.35) * centre
    wobble = rng.uniform(0.5, 2.0)
    frequency = centre + depth * np.sin(2 * np.pi * wobble * t)
    return np.sin(2 * np.pi * np.cumsum(frequency) / rate)


_GENERATORS = {
    "tone": _tone,
    "chirp": _chirp,
    "white_noise": _white_noise,
    "brown_noise": _brown_noise,
    "clicks": _clicks,
    "vowel": _vowel,
    "siren": _siren,
}


def generate(sound_class: str, seed: int, duration_seconds: float = 2.0, sample_rate: int = 16000) -> np.ndarray:
    """A clip of `sound_class`, float32 mono in [-1, 1]; the same (class, seed, duration, rate) is the same clip."""
    if sound_class not in _GENERATORS:
        raise ValueError(f"unknown sound class {sound_class!r}; choose one of {', '.join(CLASSES)}")
    rng = np.random.default_rng([seed, CLASSES.index(sound_class)])
    t = np.arange(int(round(duration_seconds * sample_rate))) / sample_rate
    clip = _GENERATORS[sound_class](rng, t, sample_rate)
    clip = clip / (np.max(np.abs(clip)) or 1.0)
    # Background noise of the same level per Hz at every rate, so one clip sounds the same at any rate.
    noise = rng.standard_normal(t.size) * 10 ** rng.uniform(-4, -3) * np.sqrt(sample_rate / 16000)
    clip = clip * rng.uniform(0.2, 0.9) + noise
    return np.clip(clip, -1.0, 1.0).astype(np.float32)


def recording(seed: int, seconds: int, sample_rate: int = 16000) -> np.ndarray:
    """A recording whose content changes every second (one-second pieces of random classes, each at its own level),
    as a fingerprint needs; distinct seeds make distinct recordings."""
    rng = np.random.default_rng([seed, len(CLASSES)])
    pieces = [
        generate(str(rng.choice(CLASSES)), int(rng.integers(1 << 30)), 1.0, sample_rate) * rng.uniform(0.2, 1.0)
        for _ in range(seconds)
    ]
    return np.concatenate(pieces).astype(np.float32)


def encode(samples: np.ndarray, sample_rate: int, suffix: str = ".wav") -> bytes:
    """The bytes of an audio file holding samples (frames, or frames x channels) in the format named by suffix."""
    if suffix.lower() not in _FORMATS:
        raise ValueError(f"cannot encode {suffix!r}: use one of {', '.join(_FORMATS)}")
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, sample_rate, format=_FORMATS[suffix.lower()])
    return buffer.getvalue()


def write_clip(path: str | pathlib.Path, samples: np.ndarray, sample_rate: int) -> pathlib.Path:
    """Write samples to `path`, the format chosen by its suffix (.wav, .flac, .ogg, .mp3)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(samples, sample_rate, path.suffix))
    return path


def near_silence_flac(seconds: int, rate: int) -> bytes:
    """A FLAC of zeros but one sample a second: minutes of high-rate audio in a few kilobytes, as a decompression
    bomb is (tests and bench/decode_bomb.py)."""
    buffer = io.BytesIO()
    second = np.zeros(rate, dtype=np.int16)
    second[0] = 1
    with soundfile.SoundFile(buffer, "w", rate, 1, format="FLAC", subtype="PCM_16") as sound:
        for _ in range(seconds):
            sound.write(second)
    return buffer.getvalue()
