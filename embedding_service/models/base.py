"""The interface every embedding model implements, weights-free or PaddleSpeech."""

import abc

import numpy as np

from audiosearch.runtime import domain


class EmbeddingModel(abc.ABC):
    """Turns mono waveforms at `sample_rate` into L2-normalised vectors of `dimension`.

    A model whose weights cannot be loaded is still listed, with available False and a reason saying what to do.
    """

    name: str
    dimension: int
    sample_rate: int
    metric: str = "COSINE"
    min_duration_seconds: float = 0.0
    description: str = ""

    @property
    def available(self) -> bool:
        return not self.unavailable_reason

    @property
    def unavailable_reason(self) -> str:
        """Empty when the model can serve; otherwise what is missing and how to provide it."""
        return ""

    @abc.abstractmethod
    def embed_batch(self, waveforms: list[np.ndarray]) -> np.ndarray:
        """One row per waveform (float32 mono at sample_rate, each at least min_duration_seconds): (n, dimension)
        float32, every row of unit L2 norm."""

    def embed_windows(self, samples: np.ndarray, ranges: list[tuple[int, int]]) -> np.ndarray:
        """One row per (start, end) window of `samples`; a model that can share work between overlapping windows
        (the fingerprint's spectrogram) does it here."""
        return self.embed_batch([samples[start:end] for start, end in ranges])

    def info(self) -> domain.ModelInfo:
        return domain.ModelInfo(
            name=self.name,
            dimension=self.dimension,
            sample_rate=self.sample_rate,
            metric=self.metric,
            min_duration_seconds=self.min_duration_seconds,
            available=self.available,
            unavailable_reason=self.unavailable_reason,
            description=self.description,
        )


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero rather than becoming NaN)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
