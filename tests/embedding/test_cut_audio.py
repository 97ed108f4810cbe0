"""CutAudio over the wire (the gateway's GetClipAudio with a time range): a range of any readable clip as a 16-bit
mono WAV at the clip's rate capped at 48 kHz; ranges outside the clip and unreadable audio are refused with reasons."""

import io

import grpc
import numpy as np
import pytest
import soundfile

from audiosearch.embedding.v1 import embedding_service_pb2 as pb2
from audiosearch.embedding.v1 import embedding_service_pb2_grpc as pb2_grpc
from audiosearch.sdk.rpc_errors import error_info
from audiosearch.tools import synth
from embedding_service.config import EmbeddingSettings
from embedding_service.models.logmel import LogMelModel
from embedding_service.models.registry import ModelRegistry
from embedding_service.server import build_core, build_server


@pytest.fixture(scope="module")
def stub():
    settings = EmbeddingSettings(listen="127.0.0.1:0")
    running = build_server(settings, build_core(settings, ModelRegistry([LogMelModel()])))
    running.server.start()
    with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield pb2_grpc.EmbeddingServiceStub(channel)
    running.stop(0)


def clip(rate: int, seconds: float, suffix: str, channels: int = 1) -> bytes:
    samples = synth.generate("chirp", 5, seconds, rate)
    return synth.encode(np.stack([samples] * channels, axis=1) if channels > 1 else samples, rate, suffix)


@pytest.mark.parametrize(
    ("rate", "suffix", "channels", "returned_rate"),
    [(16000, ".wav", 1, 16000), (44100, ".flac", 2, 44100), (96000, ".wav", 2, 48000), (22050, ".ogg", 1, 22050)],
)
def test_a_range_comes_back_as_a_mono_wav_of_that_length(stub, rate, suffix, channels, returned_rate):
    content = clip(rate, 3.0, suffix, channels)
    response = stub.CutAudio(pb2.CutAudioRequest(content=content, start_seconds=0.5, end_seconds=2.0), timeout=30)
    info = soundfile.info(io.BytesIO(response.wav))
    assert (info.format, info.subtype, info.channels, info.samplerate) == ("WAV", "PCM_16", 1, returned_rate)
    assert info.duration == pytest.approx(1.5, abs=1e-3)
    assert (response.start_seconds, response.end_seconds) == (0.5, 2.0)


def test_an_unset_or_late_end_is_the_clip_end_and_the_samples_are_the_clips(stub):
    content = clip(16000, 2.0, ".wav")
    original, _ = soundfile.read(io.BytesIO(content), dtype="float32")
    for end in ({}, {"end_seconds": 30.0}):
        response = stub.CutAudio(pb2.CutAudioRequest(content=content, start_seconds=1.0, **end), timeout=30)
        assert response.end_seconds == pytest.approx(2.0)
        samples, _ = soundfile.read(io.BytesIO(response.wav), dtype="float32")
        assert np.allclose(samples, original[16000:], atol=1 / 16384)  # the same audio, at 16-bit precision


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        (-0.5, 1.0, "INVALID_TIME_RANGE"),
        (1.0, 1.0, "INVALID_TIME_RANGE"),
        (1.5, 0.5, "INVALID_TIME_RANGE"),
        (2.0, None, "INVALID_TIME_RANGE"),
        (float("nan"), None, "INVALID_TIME_RANGE"),
        (0.0, float("inf"), "INVALID_TIME_RANGE"),
    ],
)
def test_a_range_outside_the_clip_is_refused(stub, start, end, reason):
    request = pb2.CutAudioRequest(content=clip(16000, 2.0, ".wav"), start_seconds=start, end_seconds=end)
    with pytest.raises(grpc.RpcError) as caught:
        stub.CutAudio(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(caught.value).reason == reason


def test_unreadable_audio_is_refused(stub):
    with pytest.raises(grpc.RpcError) as caught:
        stub.CutAudio(pb2.CutAudioRequest(content=b"not audio", start_seconds=0.0), timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(caught.value).reason == "UNSUPPORTED_AUDIO"
