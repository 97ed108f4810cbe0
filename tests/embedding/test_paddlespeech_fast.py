"""The fast path (static graph + Paddle Inference with oneDNN) gives the eager network's vectors."""

import numpy as np
import pytest

pytest.importorskip("paddle")

from audiosearch import synth  # noqa: E402
from embedding_service.models import paddlespeech  # noqa: E402


def test_fast_path_matches_eager(ps_store):
    fast = paddlespeech.Cnn6Model(ps_store, threads=2, fast=True)
    assert fast.available and fast._predictor is not None
    clips = [synth.generate(kind, 5, 2.0, 32000) for kind in ("vowel", "siren", "brown_noise")]
    features = fast.features(np.stack(clips))
    eager, static = fast.forward_eager(features), fast.forward(features)
    cosines = (eager * static).sum(axis=1) / np.linalg.norm(eager, axis=1) / np.linalg.norm(static, axis=1)
    assert np.all(cosines > 0.999), cosines
    # The export is cached beside the weights, keyed by the checkpoint's md5.
    assert list((ps_store.folder("panns_cnn6") / "inference").glob("*/model.pdiparams"))
    again = paddlespeech.Cnn6Model(ps_store, threads=2, fast=True)
    assert np.allclose(again.embed_batch(clips), fast.embed_batch(clips), atol=1e-6)
