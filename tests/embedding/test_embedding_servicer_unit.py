"""EmbeddingServicer without sockets: grpc_testing calls it, the real core embeds with the weights-free logmel model.

Errors pass through the servers' ErrorMappingInterceptor (see grpc_testing_support), so a failure is checked as the
caller sees it: status code and ErrorInfo reason.
"""

import io
import wave

import grpc
import numpy as np
import pytest

from audiosearch.embedding.v1 import embedding_service_pb2 as pb2
from audiosearch.type.v1 import types_pb2
from embedding_service.config import EmbeddingSettings
from embedding_service.models.base import EmbeddingModel
from embedding_service.models.logmel import LogMelModel
from embedding_service.models.registry import ModelRegistry
from embedding_service.server import build_core
from embedding_service.servicer import EmbeddingServicer

from grpc_testing_support import ServicerCalls

SERVICE = pb2.DESCRIPTOR.services_by_name["EmbeddingService"]
OK = grpc.StatusCode.OK
LOGMEL = pb2.EmbedOptions(model="logmel")


class WeightlessModel(EmbeddingModel):
    """A model that is listed but cannot serve, as one whose weights are missing."""

    name = "needs_weights"
    dimension = 512
    sample_rate = 32000
    description = "a model without its weights"

    @property
    def unavailable_reason(self) -> str:
        return "weights not installed; run `audiosearch models import needs_weights`"

    def embed_batch(self, waveforms):
        raise AssertionError("an unavailable model is never asked to embed")


def wav(seconds: float, rate: int = 22050, channels: int = 1) -> bytes:
    """A 16-bit WAV of a 440 Hz tone."""
    t = np.arange(int(seconds * rate)) / rate
    tone = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.repeat(tone, channels).tobytes())
    return buffer.getvalue()


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("library")


@pytest.fixture(scope="module")
def calls(root) -> ServicerCalls:
    settings = EmbeddingSettings(allowed_roots=(str(root),), max_audio_bytes=1024 * 1024)
    core = build_core(settings, ModelRegistry([LogMelModel(), WeightlessModel()]))
    return ServicerCalls(SERVICE, EmbeddingServicer(core))


def stream(options, *chunks):
    yield pb2.StreamEmbedAudioRequest(options=options)
    for chunk in chunks:
        yield pb2.StreamEmbedAudioRequest(chunk=chunk)


def test_list_models_maps_every_field_available_or_not(calls):
    outcome = calls.unary("ListModels", pb2.ListModelsRequest())
    assert outcome.code is OK
    logmel, weightless = outcome.response.models
    assert (logmel.name, logmel.dimension, logmel.sample_rate, logmel.metric) == (
        "logmel",
        192,
        16000,
        types_pb2.METRIC_COSINE,
    )
    assert logmel.min_duration_seconds == pytest.approx(0.1) and logmel.available and not logmel.unavailable_reason
    assert logmel.description == LogMelModel.description
    assert (weightless.name, weightless.dimension, weightless.sample_rate) == ("needs_weights", 512, 32000)
    assert not weightless.available and weightless.unavailable_reason == WeightlessModel().unavailable_reason


def test_embed_audio_content_returns_audio_facts_and_one_embedding(calls):
    outcome = calls.unary("EmbedAudio", pb2.EmbedAudioRequest(options=LOGMEL, content=wav(1.5, 22050, 2)))
    assert outcome.code is OK, outcome.details
    response = outcome.response
    assert response.model == "logmel"
    assert (response.audio.sample_rate, response.audio.channels, response.audio.format) == (22050, 2, "wav")
    assert response.audio.duration_seconds == pytest.approx(1.5)
    [embedding] = response.embeddings
    assert len(embedding.vector) == 192 and np.linalg.norm(embedding.vector) == pytest.approx(1.0, abs=1e-5)
    assert (embedding.start_seconds, embedding.end_seconds) == (0.0, pytest.approx(1.5))


def test_segment_options_become_one_embedding_per_window(calls):
    options = pb2.EmbedOptions(model="logmel", segments=types_pb2.SegmentOptions(window_seconds=1.0, hop_seconds=0.5))
    response = calls.unary("EmbedAudio", pb2.EmbedAudioRequest(options=options, content=wav(2.0))).response
    assert [(e.start_seconds, e.end_seconds) for e in response.embeddings] == [(0, 1), (0.5, 1.5), (1, 2)]


def test_embed_audio_reads_a_uri_below_the_roots(calls, root):
    content = wav(1.0, 16000)
    (root / "tone.wav").write_bytes(content)
    by_uri = calls.unary("EmbedAudio", pb2.EmbedAudioRequest(options=LOGMEL, uri=str(root / "tone.wav")))
    by_content = calls.unary("EmbedAudio", pb2.EmbedAudioRequest(options=LOGMEL, content=content))
    assert by_uri.code is OK and by_uri.response == by_content.response


def test_stream_embed_audio_reassembles_the_chunks(calls):
    content = wav(2.0)
    whole = calls.unary("EmbedAudio", pb2.EmbedAudioRequest(options=LOGMEL, content=content)).response
    third = len(content) // 3
    streamed = calls.client_stream(
        "StreamEmbedAudio", stream(LOGMEL, content[:third], content[third : 2 * third], content[2 * third :])
    )
    assert streamed.code is OK, streamed.details
    assert streamed.response == whole


@pytest.mark.parametrize(
    "request_, code, reason",
    [
        (pb2.EmbedAudioRequest(options=pb2.EmbedOptions(model="nope"), content=b"x"), "NOT_FOUND", "MODEL_NOT_FOUND"),
        (pb2.EmbedAudioRequest(content=b"x"), "INVALID_ARGUMENT", "MISSING_MODEL"),
        (
            pb2.EmbedAudioRequest(options=pb2.EmbedOptions(model="needs_weights"), content=b"x"),
            "FAILED_PRECONDITION",
            "MODEL_UNAVAILABLE",
        ),
        (pb2.EmbedAudioRequest(options=LOGMEL), "INVALID_ARGUMENT", "MISSING_AUDIO"),
        (pb2.EmbedAudioRequest(options=LOGMEL, content=b"not audio at all"), "INVALID_ARGUMENT", "UNSUPPORTED_AUDIO"),
        (pb2.EmbedAudioRequest(options=LOGMEL, uri="/etc/passwd"), "PERMISSION_DENIED", "PATH_OUTSIDE_ROOTS"),
        (
            pb2.EmbedAudioRequest(options=LOGMEL, content=b"\0" * (1024 * 1024 + 1)),
            "RESOURCE_EXHAUSTED",
            "AUDIO_TOO_LARGE",
        ),
    ],
)
def test_embed_audio_failures_carry_code_and_reason(calls, request_, code, reason):
    assert calls.unary("EmbedAudio", request_).failure == (grpc.StatusCode[code], reason)


def test_model_not_found_names_the_model_in_error_info(calls):
    outcome = calls.unary("EmbedAudio", pb2.EmbedAudioRequest(options=pb2.EmbedOptions(model="nope"), content=b"x"))
    assert outcome.error_info.metadata["model"] == "nope" and "logmel" in outcome.details


def test_stream_failures_carry_code_and_reason(calls):
    no_options = calls.client_stream("StreamEmbedAudio", [pb2.StreamEmbedAudioRequest(chunk=b"RIFF")])
    assert no_options.failure == (grpc.StatusCode.INVALID_ARGUMENT, "OPTIONS_FIRST")
    twice = calls.client_stream(
        "StreamEmbedAudio", [pb2.StreamEmbedAudioRequest(options=LOGMEL), pb2.StreamEmbedAudioRequest(options=LOGMEL)]
    )
    assert twice.failure == (grpc.StatusCode.INVALID_ARGUMENT, "OPTIONS_TWICE")
    too_big = calls.client_stream("StreamEmbedAudio", stream(LOGMEL, b"\0" * (1024 * 1024), b"\0"))
    assert too_big.failure == (grpc.StatusCode.RESOURCE_EXHAUSTED, "AUDIO_TOO_LARGE")
