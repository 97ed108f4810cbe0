import numpy as np
import pytest

from embedding_service.models.logmel import LogMelModel


@pytest.fixture(scope="session")
def logmel() -> LogMelModel:
    return LogMelModel()


def cosine(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture(scope="session")
def similarity():
    return cosine


# PaddleSpeech models with random-initialised weights, installed through the real import code (see ps_archives).
@pytest.fixture(scope="session")
def ps_archives(tmp_path_factory):
    pytest.importorskip("paddle")
    import ps_archives

    into = tmp_path_factory.mktemp("ps_archives")
    return {
        name: ps_archives.make_archive(name, into)
        for name in ("ecapa_tdnn", "panns_cnn6", "panns_cnn10", "panns_cnn14")
    }


@pytest.fixture(scope="session")
def ps_store(ps_archives, tmp_path_factory):
    from embedding_service.models import weights

    import ps_archives as helpers

    store = weights.WeightStore(tmp_path_factory.mktemp("models"), helpers.specs_for(*ps_archives.values()))
    for archive in ps_archives.values():
        store.import_(archive.name, archive.path)
    return store


@pytest.fixture(scope="session")
def ps_models(ps_store):
    from embedding_service.models import paddlespeech

    return {model.name: model for model in paddlespeech.build_models(ps_store, paddlespeech.MODELS)}
