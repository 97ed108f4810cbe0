"""The PaddleSpeech models over the real wire, wired as the service does (build_registry from settings)."""

import grpc
import numpy as np
import pytest

pytest.importorskip("paddle")

from audiosearch.embedding.v1 import embedding_service_pb2 as pb2  # noqa: E402
from audiosearch.embedding.v1 import embedding_service_pb2_grpc as pb2_grpc  # noqa: E402
from audiosearch.sdk.rpc_errors import error_info  # noqa: E402
from audiosearch.tools import synth  # noqa: E402
from audiosearch.type.v1 import types_pb2  # noqa: E402
from embedding_service.config import EmbeddingSettings  # noqa: E402
from embedding_service.server import build_core, build_registry, build_server  # noqa: E402

ALL = ("logmel", "ecapa_tdnn", "panns_cnn14", "panns_cnn10", "panns_cnn6")


def _serve(settings):
    running = build_server(settings, build_core(settings, build_registry(settings)))
    running.server.start()
    return running


@pytest.fixture(scope="module")
def stub(ps_store):
    settings = EmbeddingSettings(listen="127.0.0.1:0", model_dir=str(ps_store.root), fast_inference=False)
    running = _serve(settings)
    with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield pb2_grpc.EmbeddingServiceStub(channel)
    running.stop(0)


def test_list_models_shows_paddlespeech_and_logmel(stub):
    models = {model.name: model for model in stub.ListModels(pb2.ListModelsRequest(), timeout=10).models}
    assert set(ALL) <= set(models)  # the default settings may serve further weights-free models
    assert all(models[name].available for name in ALL)
    facts = {name: (m.dimension, m.sample_rate, types_pb2.Metric.Name(m.metric)) for name, m in models.items()}
    assert facts["ecapa_tdnn"] == (192, 16000, "METRIC_COSINE")
    assert facts["panns_cnn14"] == (2048, 32000, "METRIC_COSINE")
    assert facts["panns_cnn10"] == facts["panns_cnn6"] == (512, 32000, "METRIC_COSINE")
    assert models["ecapa_tdnn"].min_duration_seconds == pytest.approx(0.1)


@pytest.mark.parametrize(
    "name, dimension", [("ecapa_tdnn", 192), ("panns_cnn14", 2048), ("panns_cnn10", 512), ("panns_cnn6", 512)]
)
def test_each_model_embeds_a_clip(stub, name, dimension):
    content = synth.encode(synth.generate("vowel", 4, 1.5, 44100), 44100, ".flac")
    response = stub.EmbedAudio(pb2.EmbedAudioRequest(options=pb2.EmbedOptions(model=name), content=content), timeout=60)
    [segment] = response.embeddings
    assert response.model == name and len(segment.vector) == dimension
    assert np.linalg.norm(segment.vector) == pytest.approx(1.0, abs=1e-5)


def test_missing_weights_listed_unavailable_and_refused(tmp_path):
    settings = EmbeddingSettings(
        listen="127.0.0.1:0", model_dir=str(tmp_path), models=("logmel", "panns_cnn6"), fast_inference=False
    )
    running = _serve(settings)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb2_grpc.EmbeddingServiceStub(channel)
            models = {model.name: model for model in stub.ListModels(pb2.ListModelsRequest(), timeout=10).models}
            assert models["logmel"].available and not models["panns_cnn6"].available
            assert "audiosearch models fetch panns_cnn6" in models["panns_cnn6"].unavailable_reason
            content = synth.encode(synth.generate("tone", 1, 1.0, 16000), 16000)
            with pytest.raises(grpc.RpcError) as caught:
                stub.EmbedAudio(
                    pb2.EmbedAudioRequest(options=pb2.EmbedOptions(model="panns_cnn6"), content=content), timeout=10
                )
            assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert error_info(caught.value).reason == "MODEL_UNAVAILABLE"
            # The others still serve.
            ok = stub.EmbedAudio(pb2.EmbedAudioRequest(options=pb2.EmbedOptions(model="logmel"), content=content))
            assert len(ok.embeddings[0].vector) == 192
    finally:
        running.stop(0)
