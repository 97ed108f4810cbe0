"""The PaddleSpeech models on random-initialised weights: shapes, norms, front ends, rate independence, determinism."""

import numpy as np
import pytest

pytest.importorskip("paddle")

from audiosearch.tools import synth  # noqa: E402
from embedding_service.core import EmbeddingCore, EmbedOptions, Limits  # noqa: E402
from embedding_service.models import paddlespeech  # noqa: E402
from embedding_service.models.registry import ModelRegistry  # noqa: E402

SMALL = ("ecapa_tdnn", "panns_cnn6", "panns_cnn10")
RATES = (16000, 22050, 44100, 48000)


@pytest.fixture(scope="module")
def core(ps_models):
    return EmbeddingCore(ModelRegistry(ps_models.values()), Limits(), read_uri=lambda uri: b"")


@pytest.mark.parametrize(
    "name, dimension, rate",
    [("ecapa_tdnn", 192, 16000), ("panns_cnn6", 512, 32000), ("panns_cnn10", 512, 32000), ("panns_cnn14", 2048, 32000)],
)
def test_dimension_rate_and_unit_norm(ps_models, name, dimension, rate):
    model = ps_models[name]
    assert model.available, model.unavailable_reason
    assert (model.dimension, model.sample_rate, model.metric) == (dimension, rate, "COSINE")
    clips = [synth.generate(kind, 1, 1.5, rate) for kind in ("vowel", "white_noise", "siren")]
    vectors = model.embed_batch(clips)
    assert vectors.shape == (3, dimension) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.all(np.isfinite(vectors))


@pytest.mark.parametrize("name", SMALL)
def test_deterministic_and_batch_independent(ps_models, name):
    model = ps_models[name]
    rate = model.sample_rate
    clips = [synth.generate("vowel", seed, 1.0, rate) for seed in range(3)] + [synth.generate("tone", 1, 1.7, rate)]
    together = model.embed_batch(clips)
    alone = np.stack([model.embed_batch([clip])[0] for clip in clips])
    assert np.allclose(together, alone, atol=1e-5)
    assert np.array_equal(model.embed_batch(clips), together)


@pytest.mark.parametrize("name", SMALL)
def test_same_clip_at_any_rate(core, similarity, name):
    vectors = []
    for rate in RATES:
        content = synth.encode(synth.generate("vowel", 3, 2.0, rate), rate, ".wav")
        _, [segment] = core.embed(EmbedOptions(model=name), content=content)
        vectors.append(segment.vector)
    other = synth.encode(synth.generate("white_noise", 3, 2.0, 16000), 16000, ".wav")
    _, [noise] = core.embed(EmbedOptions(model=name), content=other)
    for vector in vectors[1:]:
        assert similarity(vectors[0], vector) > 0.99
    # Near-identical means closer than a different sound is.
    assert similarity(vectors[0], noise.vector) < min(similarity(vectors[0], vector) for vector in vectors[1:])


def test_ecapa_front_end_is_paddlespeech_vector_executor(ps_models):
    """The features equal what paddlespeech/cli/vector/infer.py computes (melspectrogram + feature_normalize)."""
    paddle = paddlespeech._paddle()
    librosa = paddlespeech.paddlespeech_module("audio.compliance.librosa")
    batch_io = paddlespeech.paddlespeech_module("vector.io.batch")
    clip = synth.generate("vowel", 2, 1.0, 16000)
    reference = librosa.melspectrogram(x=clip, sr=16000, n_mels=80, window_size=400, hop_length=160)
    reference = batch_io.feature_normalize(paddle.to_tensor(reference).unsqueeze(0), mean_norm=True, std_norm=False)
    ours = ps_models["ecapa_tdnn"].features(clip[None, :])
    assert ours.shape == (1, 80, 101)
    assert np.allclose(ours, reference.numpy(), atol=1e-3)


def test_panns_front_end_is_paddlespeech_cls_executor(ps_models):
    """The features equal what paddlespeech/cli/cls/infer.py computes (paddle.audio LogMelSpectrogram)."""
    paddle = paddlespeech._paddle()
    from paddle.audio.features import LogMelSpectrogram

    clip = synth.generate("siren", 2, 1.0, 32000)
    extractor = LogMelSpectrogram(
        sr=32000, n_fft=1024, hop_length=320, window="hann", win_length=1024, f_min=50.0, f_max=14000.0, n_mels=64
    )
    reference = paddle.transpose(extractor(paddle.to_tensor(clip).unsqueeze(0)), [0, 2, 1]).unsqueeze(1)
    ours = ps_models["panns_cnn6"].features(clip[None, :])
    assert ours.shape == (1, 1, 101, 64)
    assert np.allclose(ours, reference.numpy(), atol=1e-4)


def test_shortest_clip_each_model_accepts(ps_models):
    for name in SMALL:
        model = ps_models[name]
        clip = synth.generate("vowel", 1, model.min_duration_seconds, model.sample_rate)
        assert model.embed_batch([clip]).shape == (1, model.dimension)
