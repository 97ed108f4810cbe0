import grpc
import numpy as np
import pytest

from audiosearch.embedding.v1 import embedding_service_pb2 as pb2
from audiosearch.embedding.v1 import embedding_service_pb2_grpc as pb2_grpc
from audiosearch.sdk.rpc_errors import error_info
from audiosearch.sdk.upload import chunked
from audiosearch.tools import synth
from audiosearch.type.v1 import types_pb2
from embedding_service.config import EmbeddingSettings
from embedding_service.models.logmel import LogMelModel
from embedding_service.models.registry import ModelRegistry
from embedding_service.server import build_core, build_server

RATE = 16000
MAX_AUDIO_BYTES = 3 * 1024 * 1024
OPTIONS = pb2.EmbedOptions(model="logmel")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("library")


@pytest.fixture(scope="module")
def stub(root):
    settings = EmbeddingSettings(listen="127.0.0.1:0", allowed_roots=(str(root),), max_audio_bytes=MAX_AUDIO_BYTES)
    running = build_server(settings, build_core(settings, ModelRegistry([LogMelModel()])))
    running.server.start()
    with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield pb2_grpc.EmbeddingServiceStub(channel)
    running.stop(0)


def _failure(call, *args) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, timeout=10)
    return caught.value.code(), error_info(caught.value).reason


def _stream(options, content, chunk_bytes):
    yield pb2.StreamEmbedAudioRequest(options=options)
    for chunk in chunked(content, chunk_bytes):
        yield pb2.StreamEmbedAudioRequest(chunk=chunk)


def test_list_models(stub):
    [model] = stub.ListModels(pb2.ListModelsRequest(), timeout=10).models
    assert (model.name, model.dimension, model.sample_rate, model.metric, model.available) == (
        "logmel",
        192,
        16000,
        types_pb2.METRIC_COSINE,
        True,
    )
    assert model.min_duration_seconds == pytest.approx(0.1) and model.description


def test_embed_audio_content(stub):
    content = synth.encode(synth.generate("vowel", 1, 2.0, 22050), 22050, ".ogg")
    response = stub.EmbedAudio(pb2.EmbedAudioRequest(options=OPTIONS, content=content), timeout=10)
    assert response.model == "logmel"
    assert (response.audio.sample_rate, response.audio.channels, response.audio.format) == (22050, 1, "ogg")
    [embedding] = response.embeddings
    assert len(embedding.vector) == 192 and np.linalg.norm(embedding.vector) == pytest.approx(1.0, abs=1e-5)
    assert (embedding.start_seconds, embedding.end_seconds) == (0.0, pytest.approx(2.0))


def test_stream_of_chunks_embeds_like_the_whole_upload(stub):
    content = synth.encode(synth.generate("siren", 1, 40.0), RATE)  # 1.28 MB: more than one full chunk
    whole = stub.EmbedAudio(pb2.EmbedAudioRequest(options=OPTIONS, content=content), timeout=10)
    for chunk_bytes in (1024 * 1024, 64 * 1024):
        streamed = stub.StreamEmbedAudio(_stream(OPTIONS, content, chunk_bytes), timeout=10)
        assert list(streamed.embeddings[0].vector) == list(whole.embeddings[0].vector)


def test_stream_with_segments_returns_one_vector_per_window(stub):
    content = synth.encode(synth.generate("chirp", 1, 5.0), RATE)
    options = pb2.EmbedOptions(model="logmel", segments=types_pb2.SegmentOptions(window_seconds=2, hop_seconds=1))
    response = stub.StreamEmbedAudio(_stream(options, content, 1024 * 1024), timeout=10)
    assert [(e.start_seconds, e.end_seconds) for e in response.embeddings] == [(0, 2), (1, 3), (2, 4), (3, 5)]


def test_embed_audio_from_a_uri(stub, root):
    clip = synth.write_clip(root / "clip.flac", synth.generate("clicks", 1, 1.0), RATE)
    by_uri = stub.EmbedAudio(pb2.EmbedAudioRequest(options=OPTIONS, uri=str(clip)), timeout=10)
    assert by_uri.audio.format == "flac" and len(by_uri.embeddings) == 1


@pytest.mark.parametrize(
    "request_, code, reason",
    [
        (pb2.EmbedAudioRequest(options=pb2.EmbedOptions(model="nope"), content=b"x"), "NOT_FOUND", "MODEL_NOT_FOUND"),
        (pb2.EmbedAudioRequest(options=OPTIONS, content=b"not audio at all"), "INVALID_ARGUMENT", "UNSUPPORTED_AUDIO"),
        (pb2.EmbedAudioRequest(options=OPTIONS, content=b""), "INVALID_ARGUMENT", "EMPTY_AUDIO"),
        (pb2.EmbedAudioRequest(options=OPTIONS), "INVALID_ARGUMENT", "MISSING_AUDIO"),
        (pb2.EmbedAudioRequest(options=OPTIONS, uri="/etc/passwd"), "PERMISSION_DENIED", "PATH_OUTSIDE_ROOTS"),
    ],
)
def test_embed_audio_failures_carry_code_and_reason(stub, request_, code, reason):
    assert _failure(stub.EmbedAudio, request_) == (grpc.StatusCode[code], reason)


def test_stream_must_start_with_options(stub):
    requests = iter([pb2.StreamEmbedAudioRequest(chunk=b"RIFF")])
    assert _failure(stub.StreamEmbedAudio, requests) == (grpc.StatusCode.INVALID_ARGUMENT, "OPTIONS_FIRST")


def test_stream_chunks_over_one_mib_are_refused(stub):
    requests = _stream(OPTIONS, b"\0" * (1024 * 1024 + 1), 1024 * 1024 + 1)
    assert _failure(stub.StreamEmbedAudio, requests) == (grpc.StatusCode.INVALID_ARGUMENT, "CHUNK_TOO_LARGE")


def test_stream_over_the_byte_limit_is_refused(stub):
    requests = _stream(OPTIONS, b"\0" * (MAX_AUDIO_BYTES + 1), 1024 * 1024)
    assert _failure(stub.StreamEmbedAudio, requests) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "AUDIO_TOO_LARGE")


def _claiming_frames(flac: bytes, frames: int) -> bytes:
    """The FLAC with its STREAMINFO total-samples field (36 bits at byte 18) set to `frames`."""
    field = int.from_bytes(flac[18:26], "big")
    field = (field & ~((1 << 36) - 1)) | frames
    return flac[:18] + field.to_bytes(8, "big") + flac[26:]


def test_audio_promising_too_many_samples_is_refused_from_its_header(stub):
    # 400 s at 384 kHz: within the duration limit, over the default cap of rate x channels x duration.
    content = _claiming_frames(synth.encode(synth.generate("tone", 1, 1.0, 384_000), 384_000, ".flac"), 400 * 384_000)
    request_ = pb2.EmbedAudioRequest(options=OPTIONS, content=content)
    assert _failure(stub.EmbedAudio, request_) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "DECODED_AUDIO_TOO_LARGE")
