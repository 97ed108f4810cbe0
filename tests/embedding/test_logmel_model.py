import numpy as np
import pytest

from audiosearch.sdk import errors
from audiosearch.tools import synth
from embedding_service.models.base import EmbeddingModel
from embedding_service.models.logmel import LogMelModel
from embedding_service.models.registry import ModelRegistry

LIBRARY_SEEDS = range(20)
QUERY_SEEDS = range(1000, 1005)


def test_vectors_are_unit_length_float32_of_the_declared_dimension(logmel):
    clips = [synth.generate(name, seed=3) for name in synth.CLASSES]
    vectors = logmel.embed_batch(clips)
    assert vectors.shape == (len(clips), logmel.dimension)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_embedding_is_deterministic(logmel):
    clip = synth.generate("vowel", seed=7)
    assert np.array_equal(logmel.embed_batch([clip]), LogMelModel().embed_batch([clip.copy()]))
    assert np.array_equal(logmel.embed_batch([clip]), logmel.embed_batch([clip, clip])[:1])


def test_loudness_does_not_change_the_embedding(logmel, similarity):
    clip = synth.generate("chirp", seed=4)
    loud, quiet = logmel.embed_batch([clip, clip * 0.05])
    assert similarity(loud, quiet) > 0.999


def test_a_clip_as_short_as_the_minimum_embeds(logmel):
    clip = synth.generate("clicks", seed=1, duration_seconds=logmel.min_duration_seconds)
    assert np.isfinite(logmel.embed_batch([clip])).all()


@pytest.fixture(scope="module")
def library(logmel):
    labels = [name for name in synth.CLASSES for _ in LIBRARY_SEEDS]
    clips = [synth.generate(name, seed) for name in synth.CLASSES for seed in LIBRARY_SEEDS]
    return np.array(labels), logmel.embed_batch(clips)


@pytest.mark.parametrize("sound_class", synth.CLASSES)
def test_a_new_clip_finds_its_own_class_first(sound_class, library, logmel):
    labels, vectors = library
    queries = logmel.embed_batch([synth.generate(sound_class, seed) for seed in QUERY_SEEDS])
    nearest = labels[np.argmax(queries @ vectors.T, axis=1)]
    assert list(nearest) == [sound_class] * len(QUERY_SEEDS)


class _MissingWeights(EmbeddingModel):
    name, dimension, sample_rate = "panns_cnn14", 2048, 32000

    @property
    def unavailable_reason(self) -> str:
        return "weights not found in /models; download them or set the model directory"

    def embed_batch(self, waveforms):
        raise AssertionError("an unavailable model is never asked to embed")


def test_registry_names_the_known_models_when_asked_for_an_unknown_one(logmel):
    with pytest.raises(errors.NotFound) as caught:
        ModelRegistry([logmel, _MissingWeights()]).get("ecapa")
    assert "logmel" in caught.value.message and "panns_cnn14" in caught.value.message


def test_a_model_without_weights_is_listed_but_refuses_to_serve(logmel):
    registry = ModelRegistry([logmel, _MissingWeights()])
    info = {model.name: model.info() for model in registry.models()}["panns_cnn14"]
    assert not info.available and "download" in info.unavailable_reason
    with pytest.raises(errors.FailedPrecondition) as caught:
        registry.get("panns_cnn14")
    assert "download" in caught.value.message
