"""The `ge2e` speaker model: equal to resemblyzer's own vectors, unit 256-d, torch-free, listed when weights lack."""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from audiosearch.runtime.settings import load_settings
from audiosearch.sdk import errors
from audiosearch.tools import synth
from embedding_service import config, server
from embedding_service.models import ge2e_weights
from embedding_service.models.ge2e import Ge2eModel, trim_long_silences
from embedding_service.models.registry import ModelRegistry

ROOT = pathlib.Path(__file__).resolve().parents[2]
REFERENCE = json.loads((pathlib.Path(__file__).parent / "data" / "ge2e_reference.json").read_text())
WEIGHTS = ge2e_weights.default_weights_path()
needs_weights = pytest.mark.skipif(
    WEIGHTS is None or not WEIGHTS.is_file(),
    reason=f"GE2E weights not installed: {ge2e_weights.INSTALL_HINT}",
)


def reference_clip(recipe: dict) -> np.ndarray:
    """The clip scripts/make_ge2e_reference.py embedded with resemblyzer."""
    samples = synth.generate(recipe["sound_class"], recipe["seed"], recipe["duration_seconds"], 16000)
    samples = (samples * np.float32(recipe["gain"])).astype(np.float32)
    gap = np.zeros(int(round(recipe.get("gap_seconds", 0.0) * 16000)), dtype=np.float32)
    return np.concatenate([samples[: samples.size // 2], gap, samples[samples.size // 2 :]])


@pytest.fixture(scope="module")
def ge2e() -> Ge2eModel:
    model = Ge2eModel()
    assert model.available, model.unavailable_reason
    return model


@needs_weights
def test_vectors_match_resemblyzer_on_the_reference_clips(ge2e, similarity):
    clips = REFERENCE["clips"]
    assert len(clips) >= 3
    vectors = ge2e.embed_batch([reference_clip(recipe) for recipe in clips])
    cosines = [similarity(vector, recipe["vector"]) for vector, recipe in zip(vectors, clips, strict=True)]
    assert min(cosines) > 0.99, cosines


@needs_weights
def test_vectors_are_unit_length_float32_of_256_dimensions(ge2e):
    clips = [synth.generate("vowel", seed, duration) for seed, duration in ((1, 0.5), (2, 1.7), (3, 9.0))]
    vectors = ge2e.embed_batch(clips)
    assert ge2e.dimension == 256 and vectors.shape == (3, 256) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@needs_weights
def test_a_clip_embeds_the_same_alone_and_in_a_batch(ge2e):
    clips = [synth.generate("vowel", seed, 2.0 + seed) for seed in range(3)]
    together = ge2e.embed_batch(clips)
    alone = np.concatenate([ge2e.embed_batch([clip]) for clip in clips])
    np.testing.assert_allclose(together, alone, atol=1e-5)


@needs_weights
def test_embedding_never_imports_torch():
    code = (
        "import sys; from embedding_service.models.ge2e import Ge2eModel; from audiosearch.tools import synth; "
        "m = Ge2eModel(); assert m.available, m.unavailable_reason; m.embed_batch([synth.generate('vowel', 1)]); "
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('torch', 'resemblyzer', 'librosa')))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@needs_weights
def test_the_lstm_runs_on_one_blas_thread():
    """Two OpenBLAS threads per small LSTM product made ge2e ~10x slower beside busy processes (bench/embedding)."""
    code = (
        "import json, threadpoolctl; from embedding_service.models.ge2e import Ge2eModel; "
        "blas = lambda: [i['num_threads'] for i in threadpoolctl.threadpool_info() "
        "if i['internal_api'] == 'openblas']; "
        "before = blas(); assert Ge2eModel().available; print(json.dumps([before, blas()]))"
    )
    # Without the variables that cap BLAS threads from outside, so the default (one per core) shows.
    environment = {key: value for key, value in os.environ.items() if not key.endswith("_NUM_THREADS")}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, env=environment
    )
    assert result.returncode == 0, result.stderr
    before, after = json.loads(result.stdout)
    assert after and set(after) == {1}
    assert max(before) > 1 or os.cpu_count() == 1  # OpenBLAS's default: one thread per core


def test_long_silences_are_trimmed_and_a_silent_clip_is_kept_whole():
    voice = synth.generate("vowel", 5, 2.0)
    with_gap = np.concatenate([voice[:16000], np.zeros(32000, np.float32), voice[16000:]])
    trimmed = trim_long_silences(with_gap)
    # At most the 6 dilated windows (180 ms) on each side of the gap stay.
    assert voice.size - 480 <= trimmed.size <= voice.size + 2 * 6 * 480
    silence = np.zeros(16000, np.float32)
    assert trim_long_silences(silence) is silence


def test_a_missing_weights_file_lists_the_model_unavailable_with_the_fix(tmp_path):
    missing = tmp_path / "nowhere" / "pretrained.pt"
    settings = load_settings(
        config.EmbeddingSettings,
        config.PREFIX,
        {"AUDIOSEARCH_EMBEDDING_GE2E_WEIGHTS": str(missing), "AUDIOSEARCH_EMBEDDING_MODELS": "logmel,ge2e"},
    )
    registry = server.build_registry(settings)
    info = {model.name: model.info() for model in registry.models()}["ge2e"]
    assert not info.available
    assert str(missing) in info.unavailable_reason and ge2e_weights.INSTALL_HINT in info.unavailable_reason
    assert info.dimension == 256 and info.sample_rate == 16000
    with pytest.raises(errors.FailedPrecondition, match="pip install --no-deps resemblyzer"):
        registry.get("ge2e")


def test_without_resemblyzer_installed_the_model_says_how_to_install_it(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *args: None if name == "resemblyzer" else real_find_spec(name, *args)
    )
    model = Ge2eModel()
    assert not model.available and ge2e_weights.INSTALL_HINT in model.unavailable_reason
    assert not ModelRegistry([model]).models()[0].info().available
