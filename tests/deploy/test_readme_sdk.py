"""The README's Python client example runs as written against `audiosearch up` (the real CLI, as a process), in a
fresh venv where only `pip install <repo>` ran: the SDK alone, no extras (grpcio, grpcio-status, protobuf).

Only the address changes: `up --any-port` binds free ports so the test cannot collide with a running stack.
"""

import re
import shutil
import signal
import subprocess
import sys

from audiosearch.tools import synth

from deploy_support import ROOT

PACKAGES = ("audiosearch", "embedding_service", "search_service", "metadata_service", "gateway")


def readme_sdk_example() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## The Python client", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def sdk_only_venv(folder):
    """The python of a new venv with `pip install` of a copy of the repo (what an sdist holds, so pip writes
    nothing in the repo), without extras."""
    source = folder / "source"
    source.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "venv", str(folder / "venv")], check=True, timeout=120)
    python = folder / "venv" / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, f"pip install of the SDK failed (is PyPI reachable?):\n{install.stderr}"
    server_side = subprocess.run([str(python), "-c", "import grpc_health"], cwd=folder, capture_output=True)
    assert server_side.returncode != 0, "`pip install audiosearch` without extras installed grpcio-health-checking"
    return python


def test_readme_python_example_runs_on_the_sdk_alone_against_audiosearch_up(tmp_path):
    example = readme_sdk_example()
    assert 'AudioSearchClient("localhost:50051")' in example
    synth.write_clip(tmp_path / "dog.wav", synth.generate("vowel", 1), 16000)
    synth.write_clip(tmp_path / "query.wav", synth.generate("vowel", 2), 16000)

    up = subprocess.Popen(
        [sys.executable, "-m", "audiosearch.tools.cli", "up", "--any-port", "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        python = sdk_only_venv(tmp_path / "sdk")  # while the services start
        address = None
        for line in up.stdout:
            if match := re.search(r"ready: gateway at (\S+);", line):
                address = match.group(1)
                break
        assert address, f"audiosearch up did not get ready (exit {up.poll()})"
        script = example.replace("localhost:50051", address)
        result = subprocess.run([str(python), "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        lines = result.stdout.splitlines()
        assert re.fullmatch(r"\d+ new", lines[0]), lines
        assert re.fullmatch(r"1\.000 dog\.wav dog|0\.\d{3} dog\.wav dog", lines[1]), lines
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(30)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait()
