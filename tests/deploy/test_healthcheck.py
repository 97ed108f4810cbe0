"""`python -m audiosearch.tools.healthcheck`, the container health check: 0 only while the server says SERVING."""

import subprocess
import sys

from audiosearch.runtime.server import create_server
from audiosearch.tools import healthcheck

from deploy_support import ROOT, free_port, scrape


def _run(*args: str) -> int:
    command = [sys.executable, "-m", "audiosearch.tools.healthcheck", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, timeout=30).returncode


def test_exit_code_follows_the_health_status():
    running = create_server("127.0.0.1:0", [], max_message_bytes=1024 * 1024)
    running.server.start()
    try:
        address = f"127.0.0.1:{running.port}"
        assert _run(address) == 1  # NOT_SERVING until the service is ready
        running.set_serving(True)
        assert _run(address) == 0
    finally:
        running.stop(0)
    assert _run(address) == 1  # nobody answers


def test_default_address_is_the_services_own_listen_address():
    env = {"AUDIOSEARCH_SERVICE": "embedding", "AUDIOSEARCH_EMBEDDING_LISTEN": "[::]:50052"}
    assert healthcheck.default_address(env) == "localhost:50052"
    assert healthcheck.local_address("10.0.0.5:7000") == "10.0.0.5:7000"


def test_metrics_endpoint_starts_with_the_server_and_stops_with_it():
    port = free_port()
    running = create_server("127.0.0.1:0", [], max_message_bytes=1024 * 1024, metrics_port=port)
    try:
        assert any(name.startswith("python_") or name.startswith("process_") for name, _ in scrape(port))
    finally:
        running.stop(0)
    try:
        scrape(port)
    except OSError:
        return
    raise AssertionError("the metrics endpoint outlived its server")
