import numpy as np
import pytest
from scipy import signal

from audiosearch.tools import synth
from embedding_service import audio

TARGET = 16000


def _clip(rate: int, top_hz: float) -> np.ndarray:
    """The same sound at any rate: a 220 Hz harmonic tone with tremolo plus a sweep up to top_hz."""
    t = np.arange(2 * rate) / rate
    tone = sum(np.sin(2 * np.pi * 220 * k * t) * 0.7**k for k in range(1, int(top_hz / 220)))
    mix = tone * (1 + 0.5 * np.sin(2 * np.pi * 3 * t)) + signal.chirp(t, 300, 2, top_hz, method="logarithmic")
    return (0.4 * mix / np.max(np.abs(mix))).astype(np.float32)


def _embed_file(logmel, samples: np.ndarray, rate: int, suffix: str) -> np.ndarray:
    decoded, info = audio.decode(synth.encode(samples, rate, suffix), max_duration_seconds=60)
    return logmel.embed_batch([audio.resample(decoded, info.sample_rate, TARGET)])[0]


@pytest.mark.parametrize("rate", [22050, 44100, 48000, 96000])
@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_same_sound_at_any_rate_gives_the_same_embedding(rate, suffix, logmel, similarity):
    reference = _embed_file(logmel, _clip(TARGET, 7500), TARGET, suffix)
    assert similarity(_embed_file(logmel, _clip(rate, 7500), rate, suffix), reference) > 0.999


def test_8khz_audio_matches_on_the_band_it_holds(logmel, similarity):
    # 8 kHz audio cannot hold anything above 4 kHz, so the sound compared has nothing there either.
    reference = _embed_file(logmel, _clip(TARGET, 3500), TARGET, ".wav")
    assert similarity(_embed_file(logmel, _clip(8000, 3500), 8000, ".wav"), reference) > 0.99


def test_downsampling_removes_what_the_new_rate_cannot_hold():
    t = np.arange(48000) / 48000
    above_nyquist = np.sin(2 * np.pi * 10_000 * t).astype(np.float32)
    resampled = audio.resample(above_nyquist, 48000, TARGET)
    assert resampled.size == TARGET
    # Naive decimation would fold the 10 kHz tone onto 6 kHz at full strength.
    assert np.sqrt(np.mean(resampled[100:-100] ** 2)) < 1e-3


def test_resampling_to_the_same_rate_is_the_identity():
    samples = synth.generate("vowel", seed=2)
    assert audio.resample(samples, TARGET, TARGET) is samples
