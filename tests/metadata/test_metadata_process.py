"""Settings, and the audiosearch-metadata process as a launcher starts it: serves, stops on SIGTERM, fails fast."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from audiosearch.metadata.v1 import metadata_service_pb2 as pb2
from audiosearch.metadata.v1 import metadata_service_pb2_grpc as pb2_grpc
from audiosearch.runtime.settings import load_settings
from metadata_service.config import PREFIX, MetadataSettings

REPO = Path(__file__).resolve().parents[2]


def test_settings_defaults_and_env_overrides():
    defaults = load_settings(MetadataSettings, PREFIX, environ={})
    assert (defaults.listen, defaults.database_url) == ("127.0.0.1:50054", "sqlite:///data/metadata.db")
    assert defaults.max_message_bytes == 16 * 1024 * 1024

    custom = load_settings(
        MetadataSettings, PREFIX, environ={f"{PREFIX}DATABASE_URL": "mysql://u@db/x", f"{PREFIX}MAX_WORKERS": "4"}
    )
    assert (custom.database_url, custom.max_workers) == ("mysql://u@db/x", 4)


def start(database_url):
    env = {
        **os.environ,
        f"{PREFIX}LISTEN": "127.0.0.1:0",
        f"{PREFIX}DATABASE_URL": database_url,
        f"{PREFIX}GRACE_SECONDS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "metadata_service.server"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_process_serves_and_stops_on_sigterm(tmp_path):
    process = start(f"sqlite:///{tmp_path}/metadata.db")
    try:
        announced = process.stdout.readline()
        assert announced.startswith("audiosearch-metadata listening on port "), process.stderr.read()
        port = int(announced.rsplit(" ", 1)[1])
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb2_grpc.MetadataServiceStub(channel)
            with pytest.raises(grpc.RpcError) as raised:
                stub.GetCollection(pb2.GetCollectionRequest(name="absent"), timeout=5)
            assert raised.value.code() == grpc.StatusCode.NOT_FOUND
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        process.kill()
        process.communicate()


def test_process_fails_fast_when_the_database_is_unreachable():
    process = start("mysql://root:s3cret-pass@127.0.0.1:1/metadata")
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "unavailable" in stderr and "mysql://root@127.0.0.1:1/metadata" in stderr
    assert "s3cret-pass" not in stderr
