"""Embedding metrics: windows per model forward (batch size) and forward time, by model."""

import time
import typing

import numpy as np
from prometheus_client import Histogram

from audiosearch.runtime.metrics import LATENCY_BUCKETS
from embedding_service.models.base import EmbeddingModel
from embedding_service.models.registry import ModelRegistry

BATCH_WINDOWS = Histogram(
    "audiosearch_embedding_batch_windows",
    "Waveforms (clips or windows) per model forward",
    ["model"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
FORWARD_SECONDS = Histogram(
    "audiosearch_embedding_forward_seconds",
    "Time of one model forward (embed_windows: one batch of a clip's windows)",
    ["model"],
    buckets=LATENCY_BUCKETS,
)


class TimedModel:
    """A model whose embed_windows (what the core calls) is measured; everything else passes through to the model."""

    def __init__(self, model) -> None:
        self._model = model

    def __getattr__(self, attribute: str):
        return getattr(self._model, attribute)

    def embed_windows(self, samples: np.ndarray, ranges: list[tuple[int, int]]) -> np.ndarray:
        BATCH_WINDOWS.labels(self._model.name).observe(len(ranges))
        started = time.perf_counter()
        try:
            return self._model.embed_windows(samples, ranges)
        finally:
            FORWARD_SECONDS.labels(self._model.name).observe(time.perf_counter() - started)


def timed_registry(registry: ModelRegistry) -> ModelRegistry:
    """The same models, each measured."""
    # A TimedModel passes everything but embed_windows through to its model, so it serves as one.
    return ModelRegistry([typing.cast(EmbeddingModel, TimedModel(model)) for model in registry.models()])
