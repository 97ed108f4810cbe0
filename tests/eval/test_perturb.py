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


def test_pink_noise_is_added_at_the_requested_snr_with_more_power_low(clip):
    noise = perturb.add_pink_noise(clip, 10.0, np.random.default_rng(0)) - clip
    snr = 10 * np.log10(np.mean(clip.astype(np.float64) ** 2) / np.mean(noise.astype(np.float64) ** 2))
    assert snr == pytest.approx(10.0, abs=0.1)
    spectrum = np.abs(np.fft.rfft(noise)) ** 2
    # 1/f: the octave at 250-500 Hz holds about as much power as the one at 2-4 kHz, per Hz 8 times more.
    low, high = spectrum[500:1000].mean(), spectrum[4000:8000].mean()
    assert 5 < low / high < 12


def test_band_limit_keeps_only_the_telephone_band():
    t = np.arange(RATE) / RATE
    tones = {hz: np.sin(2 * np.pi * hz * t) for hz in (100, 1000, 5000)}
    out = perturb.band_limit(sum(tones.values()).astype(np.float32), RATE, 300, 3400)
    np.testing.assert_allclose(out, tones[1000], atol=1e-3)


@pytest.mark.parametrize("factor", [0.95, 1.02])
def test_speed_changes_tempo_and_pitch_stretch_only_tempo(factor):
    t = np.arange(RATE) / RATE
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)

    def peak_hz(samples):
        return np.argmax(np.abs(np.fft.rfft(samples * np.hanning(samples.size)))) * RATE / samples.size

    faster, stretched = perturb.speed(tone, factor), perturb.stretch(tone, factor)
    assert faster.size == stretched.size == round(RATE / factor)
    assert peak_hz(faster) == pytest.approx(440 * factor, abs=2)
    assert peak_hz(stretched) == pytest.approx(440, abs=2)


def test_a_chain_applies_its_steps_in_order_and_maps_time_back():
    from audiosearch.tools.evaluation.runner import Perturbation

    chain = Perturbation.parse("offset:0.5+speed:1.25")
    assert chain.name == "offset:0.5+speed:1.25" and [step.kind for step in chain.steps] == ["offset", "speed"]
    samples = np.ones(RATE, dtype=np.float32)
    assert chain.transform(samples, RATE, np.random.default_rng(0)).size == round(1.5 * RATE / 1.25)
    # 1 s into the query is 1.25 s into the shifted clip, 0.75 s into the clean one.
    assert chain.source_seconds(1.0, RATE) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="bad perturbation"):
        Perturbation.parse("noise:20+warp:2")


def test_codec_delay_is_measured_where_the_sound_starts_later():
    delay = codec.delay_seconds(RATE, "mp3", 32)
    burst = np.random.default_rng(5).standard_normal(RATE).astype(np.float32) * 0.3
    decoded = codec.reencode(np.concatenate([burst, np.zeros(RATE, np.float32)]), RATE, "mp3", 32)
    shift = round(delay * RATE)
    assert 0 <= delay < 0.2
    assert np.corrcoef(decoded[shift : shift + RATE], burst)[0, 1] > 0.8
