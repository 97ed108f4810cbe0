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
