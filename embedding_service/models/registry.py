"""The models this service holds, by name."""

from collections.abc import Iterable

from audiosearch.sdk import errors
from embedding_service.models.base import EmbeddingModel


class ModelRegistry:
    def __init__(self, models: Iterable[EmbeddingModel]) -> None:
        self._models = {model.name: model for model in models}

    def models(self) -> list[EmbeddingModel]:
        return list(self._models.values())

    def get(self, name: str) -> EmbeddingModel:
        """The model called `name`, ready to embed: NotFound if unknown, FailedPrecondition if it cannot serve."""
        model = self._models.get(name)
        if model is None:
            known = ", ".join(sorted(self._models)) or "none"
            raise errors.NotFound(f"no model named {name!r}; this service has: {known}", "MODEL_NOT_FOUND", model=name)
        if not model.available:
            raise errors.FailedPrecondition(
                f"model {name!r} is not available: {model.unavailable_reason}", "MODEL_UNAVAILABLE", model=name
            )
        return model
