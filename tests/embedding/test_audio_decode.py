import io
import struct

import numpy as np
import pytest
import soundfile

from audiosearch import synth
from audiosearch.common import errors
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


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".mp3"])
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
