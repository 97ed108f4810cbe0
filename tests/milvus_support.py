"""Helpers for tests that need the local Milvus server (a module, not conftest, so tests can import it by name)."""

import importlib.util
import os

import pytest


def require_milvus_server_package() -> None:
    """Skip without the `milvus` wheel, except under CI=true, where it fails: CI must exercise both backends."""
    if importlib.util.find_spec("milvus") is None:
        message = "the local Milvus server needs `pip install milvus==2.3.5` (scripts/setup.sh dev installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}. CI=true: the Milvus server tests must run.")
        pytest.skip(message)
