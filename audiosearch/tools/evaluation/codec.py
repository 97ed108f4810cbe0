"""Lossy re-encoding (mp3, ogg vorbis) through libsndfile, for near-duplicate evaluation."""

import functools
import io

import numpy as np
import soundfile

_FORMATS = {"mp3": ("MP3", "MPEG_LAYER_III"), "ogg": ("OGG", "VORBIS")}
# libsndfile refuses a compression level of exactly 1.0 for mp3.
_MAX_LEVEL = 0.999


def _encode(samples: np.ndarray, rate: int, codec: str, level: float) -> bytes:
    fmt, subtype = _FORMATS[codec]
    options = {"compression_level": level}
    if codec == "mp3":
        options["bitrate_mode"] = "CONSTANT"
    buffer = io.BytesIO()
    soundfile.write(buffer, np.asarray(samples, dtype=np.float32), rate, format=fmt, subtype=subtype, **options)
    return buffer.getvalue()


def _kbps(data: bytes, frames: int, rate: int) -> float:
    return len(data) * 8 / 1000 / (frames / rate)


def compression_level(samples: np.ndarray, rate: int, codec: str, kbps: float) -> float:
    """libsndfile's compression level (0 best .. 1 smallest) that gives about `kbps` for this clip.

    libsndfile has no bit-rate setting. For mp3 at constant bit rate the level maps linearly onto the MPEG bit rates
    allowed at the sample rate (160..8 kbps at 16-24 kHz, 320..32 kbps above); vorbis takes a quality, so the level
    is found by bisection on the first 10 s of the clip.
    """
    if codec not in _FORMATS:
        raise ValueError(f"unknown codec {codec!r}; use one of {', '.join(_FORMATS)}")
    if codec == "mp3":
        low, high = (8.0, 160.0) if rate <= 24000 else (32.0, 320.0)
        return float(np.clip((high - kbps) / (high - low), 0.0, _MAX_LEVEL))
    probe = np.asarray(samples, dtype=np.float32)[: 10 * rate]
    lo, hi = 0.0, 1.0
    for _ in range(6):
        middle = (lo + hi) / 2
        if _kbps(_encode(probe, rate, codec, middle), probe.size, rate) > kbps:
            lo = middle
        else:
            hi = middle
    return (lo + hi) / 2


def encode(samples: np.ndarray, rate: int, codec: str, kbps: float) -> bytes:
    """The bytes of an mp3 or ogg vorbis file holding the clip at about `kbps` kbit/s."""
    return _encode(samples, rate, codec, compression_level(samples, rate, codec, kbps))


def reencode(samples: np.ndarray, rate: int, codec: str, kbps: float) -> np.ndarray:
    """The clip after a lossy encode at about `kbps` kbit/s and a decode (float32 mono, encoder delay included)."""
    decoded, _ = soundfile.read(io.BytesIO(encode(samples, rate, codec, kbps)), dtype="float32", always_2d=True)
    return decoded.mean(axis=1).astype(np.float32)


def encoded_kbps(samples: np.ndarray, rate: int, codec: str, kbps: float) -> float:
    """The bit rate an encode asked for `kbps` really produced (file size over duration)."""
    data = _encode(samples, rate, codec, compression_level(samples, rate, codec, kbps))
    return _kbps(data, np.asarray(samples).size, rate)


@functools.lru_cache
def delay_seconds(rate: int, codec: str, kbps: float) -> float:
    """How much later the sound starts after an encode and a decode (the encoder's and decoder's delay), measured on a
    noise burst by cross-correlation."""
    burst = np.random.default_rng(0).standard_normal(rate).astype(np.float32) * 0.3
    clean = np.concatenate([burst, np.zeros(rate // 2, dtype=np.float32)])
    decoded = reencode(clean, rate, codec, kbps)[: clean.size]
    lags = np.arange(-rate // 10, rate // 10)
    scores = [
        float(np.dot(clean[max(0, -lag) : clean.size - max(0, lag)], decoded[max(0, lag) :][: clean.size - abs(lag)]))
        for lag in lags
    ]
    return float(lags[int(np.argmax(scores))]) / rate
