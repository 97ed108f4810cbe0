"""A real S3-compatible server for the kept-audio tests: moto's standalone HTTP server (moto[server], a dev
dependency), started on a free port and stopped at the end."""

import contextlib
import pathlib
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from metadata_service.blobs import S3Credentials

# moto accepts any keys; boto3 only needs some.
CREDENTIALS = {"region": "us-east-1", "access_key_id": "test", "secret_access_key": "test"}


def _executable() -> str:
    beside = pathlib.Path(sys.executable).parent / "moto_server"
    found = str(beside) if beside.exists() else shutil.which("moto_server")
    if found is None:
        pytest.skip("moto_server not found: bash scripts/setup.sh dev installs moto[server]")
    return found


@contextlib.contextmanager
def moto_s3() -> Iterator[S3Credentials]:
    """Start moto_server on 127.0.0.1 and a free port; yields the credentials that reach it."""
    process = subprocess.Popen(
        [_executable(), "-H", "127.0.0.1", "-p", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    try:
        endpoint = ""
        seen = []
        for line in process.stdout:  # werkzeug prints the address once its socket is bound
            seen.append(line)
            if match := re.search(r"Running on (http://127\.0\.0\.1:\d+)", line):
                endpoint = match.group(1)
                break
        if not endpoint:
            raise RuntimeError(f"moto_server did not start: {''.join(seen)[-2000:]}")
        # Its request log is drained, so a full pipe never blocks it.
        threading.Thread(target=process.stdout.read, daemon=True).start()
        yield S3Credentials(endpoint_url=endpoint, **CREDENTIALS)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
