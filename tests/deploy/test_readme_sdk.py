"""The README's Python client example runs as written against `audiosearch up` (the real CLI, as a process).

Only the address changes: `up --any-port` binds free ports so the test cannot collide with a running stack.
"""

import os
import re
import signal
import subprocess
import sys

from deploy_support import ROOT

from audiosearch import synth


def readme_sdk_example() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## The Python client", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_readme_python_example_runs_against_audiosearch_up(tmp_path):
    example = readme_sdk_example()
    assert 'AudioSearchClient("localhost:50051")' in example
    synth.write_clip(tmp_path / "dog.wav", synth.generate("vowel", 1), 16000)
    synth.write_clip(tmp_path / "query.wav", synth.generate("vowel", 2), 16000)

    up = subprocess.Popen(
        [sys.executable, "-m", "audiosearch.cli", "up", "--any-port", "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        address = None
        for line in up.stdout:
            if match := re.search(r"ready: gateway at (\S+);", line):
                address = match.group(1)
                break
        assert address, f"audiosearch up did not get ready (exit {up.poll()})"
        script = example.replace("localhost:50051", address)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env
        )
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
