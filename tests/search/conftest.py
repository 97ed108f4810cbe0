"""Fixtures: one Milvus Lite file per test session (only one client may open it), shared by every search test."""

import itertools

import pytest

from search_service.config import SearchSettings
from search_service.core import SearchCore
from search_service.store import MilvusVectorStore

from search_data import DIMENSION

_names = itertools.count()


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    store = MilvusVectorStore.open(SearchSettings(milvus_uri=str(tmp_path_factory.mktemp("milvus") / "vectors.db")))
    yield store
    store.close()


@pytest.fixture(scope="session")
def core(store) -> SearchCore:
    return SearchCore(store)


@pytest.fixture
def new_collection(core):
    """Factory of fresh collections (creating one is slow on Milvus Lite, so tests that only read share one)."""

    def create(metric: str = "COSINE", index_type: str = "HNSW", dimension: int = DIMENSION) -> str:
        name = f"c{next(_names)}"
        core.ensure_collection(name, dimension, metric, index_type)
        return name

    return create
