"""What `audiosearch models fetch|import|list` do, on the weights folder the embedding service reads.

The folder is the service's AUDIOSEARCH_EMBEDDING_MODEL_DIR, so the CLI and the service agree on it. Functions
raise audiosearch.sdk.errors (WeightsError, NotFound, Unavailable) with messages that say what to do.
"""

import os
from collections.abc import Callable

from embedding_service import config
from embedding_service.models import weights


def store(model_dir: str | os.PathLike | None = None) -> weights.WeightStore:
    return weights.WeightStore(model_dir if model_dir is not None else config.load().model_dir)


def fetch(name: str, model_dir=None, progress: Callable[[int, int], None] | None = None) -> str:
    """Download, md5-check and install `name`'s published archive; returns the installed folder."""
    return str(store(model_dir).fetch(name, progress))


def import_(name: str, path: str | os.PathLike, model_dir=None) -> str:
    """Install `name` from its published archive (md5 checked) or unpacked folder; returns the installed folder."""
    return str(store(model_dir).import_(name, path))


def list_installed(model_dir=None) -> list[weights.InstalledWeights]:
    """Every PaddleSpeech model with whether its weights are installed, where, and from what."""
    return store(model_dir).list_installed()
