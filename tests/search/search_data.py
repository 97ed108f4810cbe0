"""Vectors and clips the search tests build (a module, not conftest, so tests can import it by name)."""

import numpy as np

from audiosearch.runtime import domain
from search_service.vectors import ClipVectors

DIMENSION = 8


def unit_vector(seed: int, dimension: int = DIMENSION) -> list[float]:
    vector = np.random.default_rng(seed).normal(size=dimension)
    return (vector / np.linalg.norm(vector)).tolist()


def clip(clip_id: int, *vectors: list[float], labels=domain.Labels(), duration: float = 1.0) -> ClipVectors:
    """A clip with one segment per vector, windows one second long."""
    segments = [domain.Segment(vector, float(index), float(index + 1)) for index, vector in enumerate(vectors)]
    return ClipVectors(clip_id, labels, duration, segments)
