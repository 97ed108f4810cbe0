"""`python -m search_service.server` as an operator runs it: fails fast without Milvus, serves and stops cleanly."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from audiosearch.search.v1 import search_service_pb2 as pb2
from audiosearch.search.v1 import search_service_pb2_grpc as pb2_grpc

REPO = Path(__file__).resolve().parents[2]


def start(**env: str) -> subprocess.Popen:
    variables = {f"AUDIOSEARCH_SEARCH_{name.upper()}": value for name, value in env.items()}
    return subprocess.Popen(
        [sys.executable, "-m", "search_service.server"],
        cwd=REPO,
        env={**os.environ, "AUDIOSEARCH_SEARCH_LISTEN": "127.0.0.1:0", **variables},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_unreachable_milvus_fails_fast_with_a_clear_message():
    process = start(milvus_uri="http://127.0.0.1:1")
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "AUDIOSEARCH_SEARCH_MILVUS_URI" in stderr


def test_serves_on_a_milvus_lite_file_and_stops_on_sigterm(tmp_path):
    process = start(milvus_uri=str(tmp_path / "data" / "vectors.db"))
    try:
        port = int(process.stdout.readline().rsplit(" ", 1)[-1])
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            stub = pb2_grpc.SearchServiceStub(channel)
            request = pb2.EnsureCollectionRequest(collection="clips", dimension=4)
            assert stub.EnsureCollection(request, timeout=30).created
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.communicate()
