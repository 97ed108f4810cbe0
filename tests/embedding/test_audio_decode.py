import io
import struct

import numpy as np
import pytest
import soundfile

from audiosearch.sdk import errors
from audiosearch.tools import synth
from embedding_service import audio

RATE = 16000


@pytest.fixture(scope="module")
def tone() -> np.ndarray:
    return synth.generate("tone", seed=1, duration_seconds=1.0, sample_rate=RATE)


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg", ".mp3"])
def test_decodes_each_format_to_the_same_sound(suffix, tone, logmel, similarity):
    samples, info = audio.decode(synth.encode(tone, RATE, suffix), max_duration_seconds=60)
    assert (info.format, info.sample_rate, info.channels) == (suffix[1:], RATE, 1)
    assert info.duration_seconds == pytest.approx(1.0, abs=0.01)
    assert samples.dtype == np.float32
    original, decoded = logmel.embed_batch([tone, samples])
    assert similarity(original, decoded) > 0.98


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_lossless_formats_keep_the_samples(suffix, tone):
    samples, _ = audio.decode(synth.encode(tone, RATE, suffix), max_duration_seconds=60)
    np.testing.assert_allclose(samples, tone, atol=1e-4)


def test_stereo_is_mixed_down_to_mono(tone):
    left, right = tone, synth.generate("chirp", seed=1, duration_seconds=1.0, sample_rate=RATE)
    samples, info = audio.decode(synth.encode(np.stack([left, right], axis=1), RATE), max_duration_seconds=60)
    assert info.channels == 2
    np.testing.assert_allclose(samples, (left + right) / 2, atol=1e-4)


def _refusal(data: bytes, max_duration_seconds: float = 60) -> errors.InvalidArgument:
    with pytest.raises(errors.InvalidArgument) as caught:
        audio.decode(data, max_duration_seconds)
    return caught.value


def test_refuses_empty_bytes():
    assert _refusal(b"").reason == "EMPTY_AUDIO"


def test_refuses_bytes_that_are_not_audio():
    refusal = _refusal(np.random.default_rng(0).bytes(4096))
    assert refusal.reason == "UNSUPPORTED_AUDIO"
    assert "wav, flac, ogg, mp3" in refusal.message


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg", ".mp3"])
def test_refuses_a_file_cut_short(suffix, tone):
    data = synth.encode(tone, RATE, suffix)
    assert _refusal(data[: len(data) // 2]).reason == "TRUNCATED_AUDIO"


def test_accepts_a_streamed_wav_whose_data_length_is_unknown(tone):
    data = bytearray(synth.encode(tone, RATE))
    data[40:44] = struct.pack("<I", 0xFFFFFFFF)  # the data chunk's size, as a live recorder writes it
    samples, _ = audio.decode(bytes(data), max_duration_seconds=60)
    assert samples.size == tone.size


def test_refuses_audio_longer_than_the_limit(tone):
    refusal = _refusal(synth.encode(tone, RATE), max_duration_seconds=0.5)
    assert refusal.reason == "AUDIO_TOO_LONG"
    assert "0.5 s" in refusal.message


def test_refuses_silence():
    assert _refusal(synth.encode(np.zeros(RATE, dtype=np.float32), RATE)).reason == "SILENT_AUDIO"


def test_refuses_non_finite_samples(tone):
    buffer = io.BytesIO()
    soundfile.write(buffer, np.where(np.arange(tone.size) == 100, np.nan, tone), RATE, format="WAV", subtype="FLOAT")
    assert _refusal(buffer.getvalue()).reason == "NON_FINITE_AUDIO"


@pytest.fixture(scope="module")
def vorbis() -> bytes:
    return synth.encode(synth.generate("vowel", seed=3, duration_seconds=10.0, sample_rate=RATE), RATE, ".ogg")


@pytest.mark.parametrize("kept", [0.25, 0.5, 0.75, 0.9, 0.99])
def test_refuses_an_ogg_file_cut_anywhere(vorbis, kept):
    # libsndfile counts an Ogg stream's frames from the last page it finds, so a cut file looks like a short clip.
    refusal = _refusal(vorbis[: int(len(vorbis) * kept)])
    assert refusal.reason == "TRUNCATED_AUDIO"
    assert "ogg" in refusal.message


def test_accepts_a_complete_ogg_file(vorbis):
    _, info = audio.decode(vorbis, max_duration_seconds=60)
    assert info.duration_seconds == pytest.approx(10.0, abs=0.01)


def _float_wav(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, RATE, format="WAV", subtype="FLOAT")
    return buffer.getvalue()


def test_refuses_float_samples_far_outside_full_scale(tone):
    refusal = _refusal(_float_wav(np.where(np.arange(tone.size) == 100, np.float32(1e30), tone)))
    assert refusal.reason == "AUDIO_OUT_OF_RANGE"
    assert "1e+30" in refusal.message and f"{audio.MAX_ABS_SAMPLE:g}" in refusal.message


def test_accepts_float_audio_written_at_integer_scale(tone):
    # Some editors write float files unnormalised, at 16-bit scale; that is loud, not broken.
    samples, _ = audio.decode(_float_wav(tone * 32767 / np.max(np.abs(tone))), max_duration_seconds=60)
    assert np.isfinite(samples).all() and np.max(np.abs(samples)) == pytest.approx(32767)


def test_refuses_from_the_header_audio_that_decodes_to_too_many_samples(tone):
    stereo = synth.encode(np.stack([tone, tone], axis=1), RATE, ".flac")  # 16000 Hz x 2 channels x 1 s
    assert audio.decode(stereo, 60, max_decoded_samples=2 * RATE)[0].size == RATE
    with pytest.raises(errors.ResourceExhausted) as caught:
        audio.decode(stereo[: len(stereo) // 2], 60, max_decoded_samples=2 * RATE - 1)  # refused before the cut shows
    assert caught.value.reason == "DECODED_AUDIO_TOO_LARGE"
    assert "16000 Hz x 2 channels x 1.0 s" in caught.value.message
