"""The weights-free `fingerprint` model: the same recording survives perturbations, other recordings do not match."""

import numpy as np
import pytest

from audiosearch.tools import synth
from audiosearch.tools.evaluation import codec, perturb
from embedding_service.config import EmbeddingSettings
from embedding_service.models.fingerprint import FingerprintModel
from embedding_service.server import build_registry

RATE = 16000


@pytest.fixture(scope="module")
def model() -> FingerprintModel:
    return FingerprintModel()


def test_vectors_are_unit_length_float32_of_the_declared_dimension(model):
    clips = [synth.generate(name, seed=2, duration_seconds=3.0) for name in synth.CLASSES]
    clips.append(synth.generate("tone", seed=1, duration_seconds=model.min_duration_seconds))
    vectors = model.embed_batch(clips)
    assert vectors.shape == (len(clips), model.dimension) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert model.embed_batch([]).shape == (0, model.dimension)


def _recording(sound_class: str, seed: int, seconds: float = 3.0) -> np.ndarray:
    """A non-stationary recording of one class: pieces of 0.15-0.5 s of it (each its own seed), as in speech
    syllables or a sequence of sound events. Synthetic classes alone are stationary and carry no pattern in time."""
    rng = np.random.default_rng(seed)
    pieces, total = [], 0
    while total < seconds * RATE:
        piece = synth.generate(sound_class, int(rng.integers(1 << 30)), duration_seconds=rng.uniform(0.15, 0.5))
        pieces.append(piece * rng.uniform(0.2, 1.0))
        total += piece.size
    return np.concatenate(pieces)[: int(seconds * RATE)]


@pytest.mark.parametrize("sound_class", ["vowel", "white_noise", "clicks"])
def test_a_perturbed_copy_is_closer_to_its_original_than_other_recordings_of_its_class(model, sound_class):
    originals = [_recording(sound_class, seed) for seed in range(6)]
    rng = np.random.default_rng(0)
    for index, original in enumerate(originals):
        copies = [
            perturb.add_noise(original, 20, rng),
            perturb.gain(original, -6),
            perturb.round_trip(original, RATE, 8000),
            codec.reencode(original, RATE, "mp3", 64)[: original.size],
        ]
        scores = model.embed_batch(copies) @ model.embed_batch(originals).T
        assert (scores.argmax(axis=1) == index).all(), (sound_class, index, scores.round(2))
        assert scores[:, index].min() > 0.6, scores.round(2)


def test_gain_does_not_change_the_vector(model):
    clip = synth.generate("siren", seed=4, duration_seconds=2.0)
    loud, quiet = model.embed_batch([clip, clip * 0.05])
    assert float(loud @ quiet) > 0.999


def test_the_service_serves_it_beside_logmel():
    registry = build_registry(EmbeddingSettings(models=("logmel", "fingerprint")))
    assert [model.name for model in registry.models()] == ["logmel", "fingerprint"]


def test_windows_cut_from_one_spectrogram_equal_windows_embedded_alone(model):
    from embedding_service import segments

    # A gap of silence inside: the windows around it are trimmed of their silent edges first.
    clip = synth.recording(7, 6)
    clip[2 * RATE : 3 * RATE + RATE // 3] = 0
    for hop in (0.1, 0.25):
        ranges = segments.windows(clip.size, RATE, 3.0, hop)
        alone = model.embed_batch([clip[start:end] for start, end in ranges])
        np.testing.assert_allclose(model.embed_windows(clip, ranges), alone, atol=1e-6)
        # A batch of the windows (the core passes a long clip's a batch at a time) reads only the part they cover.
        np.testing.assert_allclose(model.embed_windows(clip, ranges[7:19]), alone[7:19], atol=1e-6)


@pytest.mark.parametrize("seconds", [0.1, 0.4, 1.5])
def test_leading_and_trailing_silence_leave_a_short_sound_as_it_was(model, seconds):
    sound = _recording("vowel", 3, seconds)
    others = [_recording("vowel", seed, seconds) for seed in (4, 5, 6)]
    padded = np.concatenate([np.zeros(RATE // 2, np.float32), sound, np.zeros(RATE // 5, np.float32)])
    vectors = model.embed_batch([sound, padded, *others])
    assert float(vectors[0] @ vectors[1]) > 0.99
    assert (vectors[1] @ vectors[2:].T).max() < 0.9
    # Without the trim, the 0.5 s of silence would squeeze the sound into the last slots.
    assert model.min_duration_seconds == 0.1
