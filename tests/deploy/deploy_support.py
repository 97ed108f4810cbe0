"""What the deployment files may set: the env vars each service's settings read, and helpers to run services."""

import dataclasses
import os
import pathlib
import socket
import subprocess
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from audiosearch.runtime.settings import env_name
from audiosearch.tools.launcher import announced_port
from embedding_service import config as embedding_config
from gateway import config as gateway_config
from metadata_service import config as metadata_config
from search_service import config as search_config

ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVICES = {
    "gateway": (gateway_config.GatewaySettings, gateway_config.PREFIX),
    "embedding": (embedding_config.EmbeddingSettings, embedding_config.PREFIX),
    "search": (search_config.SearchSettings, search_config.PREFIX),
    "metadata": (metadata_config.MetadataSettings, metadata_config.PREFIX),
}
MODULES = {"gateway": "gateway.server", **{name: f"{name}_service.server" for name in SERVICES if name != "gateway"}}


def known_env(service: str) -> set[str]:
    """Every AUDIOSEARCH_* variable the `service` process reads: its Settings, plus the security settings."""
    cls, prefix = SERVICES[service]
    names = {env_name(prefix, field.name) for field in dataclasses.fields(cls)}
    try:  # TLS/token settings are read by the server bootstrap with the same prefix (and PEER_ for the gateway)
        from audiosearch.runtime.security import ServerSecurity
        from audiosearch.sdk.security import ChannelSecurity
    except ImportError:
        return names
    names |= {env_name(prefix, field.name) for field in dataclasses.fields(ServerSecurity)}
    if service == "gateway":
        peer_prefix = getattr(gateway_config, "PEER_PREFIX", "AUDIOSEARCH_GATEWAY_PEER_")
        names |= {env_name(peer_prefix, field.name) for field in dataclasses.fields(ChannelSecurity)}
    return names


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclasses.dataclass
class Process:
    """One service process started by a test; its port read from the announcement on stdout."""

    name: str
    popen: subprocess.Popen
    port: int = 0
    metrics_port: int = 0
    host: str = "127.0.0.1"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def scrape(self) -> dict[tuple[str, tuple], float]:
        """This process's metrics (served on the host of its listen address)."""
        return scrape(self.metrics_port, self.host)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def start(service: str, env: dict[str, str], log_path: pathlib.Path, timeout: float = 60.0) -> Process:
    """Start `service` on a free port with metrics on another; returns once it announced its port."""
    prefix = SERVICES[service][1]
    metrics_port = free_port()
    full_env = {**os.environ, f"{prefix}LISTEN": "127.0.0.1:0", f"{prefix}METRICS_PORT": str(metrics_port), **env}
    with open(log_path, "ab") as log_file:
        popen = subprocess.Popen(
            [sys.executable, "-m", MODULES[service]], stdout=subprocess.PIPE, stderr=log_file, env=full_env, text=True
        )
    port = announced_port(service, popen, log_path, timeout)
    host = full_env[f"{prefix}LISTEN"].rpartition(":")[0]
    return Process(service, popen, port, metrics_port, host)


def scrape(port: int, host: str = "127.0.0.1") -> dict[tuple[str, tuple], float]:
    """Every sample of a /metrics endpoint: (name, sorted labels) -> value."""
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def rpc_counts(samples: dict, service: str | None = None) -> dict[tuple[str, str], float]:
    """(method, code) -> grpc_server_handled_total, optionally for one gRPC service."""
    counts = {}
    for (name, labels), value in samples.items():
        labels = dict(labels)
        if name == "grpc_server_handled_total" and value and (service is None or labels["grpc_service"] == service):
            counts[(labels["grpc_method"], labels["grpc_code"])] = value
    return counts
