"""The embedding service as its own process, as deployed, for the benches that measure it from outside."""

import os
import pathlib
import subprocess
import sys

import grpc

from audiosearch.embedding.v1 import embedding_service_pb2_grpc as pb2_grpc
from audiosearch.tools.launcher import announced_port

ROOT = pathlib.Path(__file__).resolve().parents[1]


class EmbeddingProcess:
    """Started with `env` (AUDIOSEARCH_EMBEDDING_* settings) on a free port; stopped with SIGTERM."""

    def __init__(self, env: dict[str, str], log_path: pathlib.Path) -> None:
        settings = {"AUDIOSEARCH_EMBEDDING_LISTEN": "127.0.0.1:0", "AUDIOSEARCH_EMBEDDING_LOG_LEVEL": "WARNING", **env}
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "embedding_service.server"],
                stdout=subprocess.PIPE,
                stderr=log,
                env={**os.environ, **settings},
                text=True,
                cwd=ROOT,
            )
        port = announced_port("embedding", self.process, log_path, timeout=120)
        # Unbounded sends: the benches decide what is too large, not the client.
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", -1)])
        self.stub = pb2_grpc.EmbeddingServiceStub(self.channel)

    def cpu_seconds(self) -> float:
        """CPU seconds (user + system, every thread) the service has used so far."""
        stat = pathlib.Path(f"/proc/{self.process.pid}/stat").read_text()
        user, system = stat.rsplit(")", 1)[1].split()[11:13]
        return (int(user) + int(system)) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.channel.close()
        self.process.terminate()
        self.process.wait(timeout=30)
