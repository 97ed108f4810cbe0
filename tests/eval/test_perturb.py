"""The near-duplicate perturbations (pure numpy) and the lossy re-encoding."""

import numpy as np
import pytest

from audiosearch.tools import synth
from audiosearch.tools.evaluation import codec, perturb

RATE = 16000


@pytest.fixture
def clip():
    return synth.generate("vowel", seed=3, duration_seconds=2.0, sample_rate=RATE)


def test_noise_is_added_at_the_requested_snr(clip):
    noisy = perturb.add_noise(clip, 20.0, np.random.default_rng(0))
    noise = noisy - clip
    snr = 10 * np.log10(np.mean(clip.astype(np.float64) ** 2) / np.mean(noise.astype(np.float64) ** 2))
    assert noisy.dtype == np.float32 and noisy.shape == clip.shape
    assert snr == pytest.approx(20.0, abs=0.3)


def test_gain_scales_by_decibels_and_clips(clip):
    assert np.max(np.abs(perturb.gain(clip, -6.0))) == pytest.approx(np.max(np.abs(clip)) * 10 ** (-6 / 20), rel=1e-5)
    assert np.max(np.abs(perturb.gain(clip, 40.0))) <= 1.0


def test_crop_removes_the_fraction_from_start_and_end(clip):
    cropped = perturb.crop(clip, 0.1, np.random.default_rng(1))
    assert cropped.size == clip.size - round(clip.size * 0.1)
    start = next(i for i in range(clip.size) if np.array_equal(clip[i : i + cropped.size], cropped))
    assert 0 <= start <= round(clip.size * 0.1)
    with pytest.raises(ValueError):
        perturb.crop(clip, 1.0, np.random.default_rng(0))


def test_resampling_round_trip_removes_what_is_above_the_lower_nyquist():
    t = np.arange(RATE) / RATE
    low, high = np.sin(2 * np.pi * 1000 * t), np.sin(2 * np.pi * 6000 * t)
    out = perturb.round_trip((0.4 * low + 0.4 * high).astype(np.float32), RATE, 8000)
    assert out.size == RATE
    spectrum = np.abs(np.fft.rfft(out))
    assert spectrum[6000] < 1e-3 * spectrum[1000]
    np.testing.assert_allclose(out, 0.4 * low, atol=1e-3)
    assert perturb.resample(low.astype(np.float32), RATE, 8000).size == 8000


def test_offset_prepends_silence_or_drops_the_start(clip):
    later = perturb.offset(clip, RATE, 0.5)
    assert later.size == clip.size + RATE // 2 and not later[: RATE // 2].any()
    np.testing.assert_array_equal(perturb.offset(clip, RATE, -0.25), clip[RATE // 4 :])


@pytest.mark.parametrize(("codec_name", "kbps"), [("mp3", 64), ("mp3", 32), ("ogg", 64)])
def test_reencoding_hits_the_bit_rate_and_keeps_the_sound(clip, codec_name, kbps):
    long_clip = np.tile(clip, 3)
    assert codec.encoded_kbps(long_clip, RATE, codec_name, kbps) == pytest.approx(kbps, rel=0.2)
    decoded = codec.reencode(long_clip, RATE, codec_name, kbps)
    assert decoded.dtype == np.float32 and abs(decoded.size - long_clip.size) < RATE // 4
    assert np.sqrt(np.mean(decoded**2)) == pytest.approx(np.sqrt(np.mean(long_clip**2)), rel=0.3)
