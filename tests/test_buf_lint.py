"""The protos pass `buf lint` with the STANDARD rules (buf.yaml says which rules are excepted, and why).

scripts/test.sh installs buf into .tools/ (`npm install --prefix .tools @bufbuild/buf@1.75.0`).
"""

import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _buf() -> str | None:
    local = ROOT / ".tools" / "node_modules" / ".bin" / "buf"
    return str(local) if local.exists() else shutil.which("buf")


def test_buf_lint_passes():
    buf = _buf()
    if buf is None:
        message = "buf not found: `npm install --prefix .tools @bufbuild/buf@1.75.0` (scripts/test.sh does)"
        if os.environ.get("CI") == "true" and shutil.which("npm"):  # test.sh could have installed it
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run([buf, "lint"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
