"""Which vector store `audiosearch up` starts by default (issue #14): the local Milvus server whenever its package is
installed, because Milvus Lite 3.x cannot search 100k vectors fast and exactly (docs/vector-stores.md)."""

import subprocess
import sys

import pytest

from audiosearch.tools.launcher import Stack, resolve_milvus

from milvus_support import require_milvus_server_package


def test_up_defaults_to_the_local_milvus_server_when_its_package_is_installed():
    require_milvus_server_package()
    assert resolve_milvus("auto") == "server"
    assert Stack("unused", milvus="auto").milvus == "server"


def test_up_falls_back_to_milvus_lite_without_the_server_package():
    # A fresh interpreter in which `import milvus` fails, as after installing audiosearch without its server extra.
    code = "import sys; sys.modules['milvus'] = None\nfrom audiosearch.tools.launcher import resolve_milvus\n"
    code += "print(resolve_milvus('auto'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "lite"


def test_an_explicit_choice_is_kept_and_an_unknown_one_refused():
    assert (resolve_milvus("lite"), resolve_milvus("server")) == ("lite", "server")
    with pytest.raises(ValueError, match="auto, lite, server"):
        Stack("unused", milvus="embedded")
