"""Layers import downward only (tools > services > runtime > SDK), and the SDK imports nothing of the servers.

The contracts are in pyproject.toml ([tool.importlinter]); tests/deploy/test_readme_sdk.py installs the SDK alone.
"""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
# What `import audiosearch.client` must not load: the server runtime's dependencies, the other layers.
SERVER_SIDE = (
    "grpc_health",
    "grpc_reflection",
    "prometheus_client",
    "numpy",
    "audiosearch.runtime",
    "audiosearch.tools",
    "embedding_service",
    "search_service",
    "metadata_service",
    "gateway",
)


def test_import_linter_contracts_are_kept():
    lint_imports = pathlib.Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"`lint-imports` found imports against the layers:\n{result.stdout}{result.stderr}"


# grpc imports grpc_health and grpc_reflection itself when they are installed (its old grpc.health aliases), so the
# subprocess hides them, as an SDK-only install would not have them; importing them from the SDK then fails.
IMPORT_CLIENT = """
import importlib.abc
import sys


class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("grpc_health", "grpc_reflection"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled())
import audiosearch.client

print("\\n".join(sorted(sys.modules)))
"""


def test_importing_the_client_loads_nothing_of_the_servers():
    result = subprocess.run([sys.executable, "-c", IMPORT_CLIENT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"`import audiosearch.client` needs a server-side package:\n{result.stderr}"
    loaded = result.stdout.split()
    assert "audiosearch.sdk.channel" in loaded
    server_side = [name for name in loaded if any(name == top or name.startswith(f"{top}.") for top in SERVER_SIDE)]
    assert not server_side, f"`import audiosearch.client` loaded {server_side}"
