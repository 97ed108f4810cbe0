"""Starts the four services as separate local processes on the embedded default, and stops them all.

Used by `audiosearch up`, the demo and the end-to-end tests. Each service announces its port on stdout
("<name> listening on port N"), so services can bind port 0; their logs go to files under the data folder.
"""

import dataclasses
import os
import pathlib
import queue
import re
import signal
import subprocess
import sys
import threading
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

_LISTENING = re.compile(r"listening on port (\d+)")

# Start order: the gateway needs the other three's addresses.
SERVICES = ("metadata", "search", "embedding", "gateway")
DEFAULT_PORTS = {"gateway": 50051, "embedding": 50052, "search": 50053, "metadata": 50054}


class LaunchError(RuntimeError):
    """A service did not start; the message names it and its log file."""


def announced_port(name: str, process: subprocess.Popen, log_path: pathlib.Path, timeout: float) -> int:
    """The port a service process prints on stdout once it serves ("... listening on port N")."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True, name=f"{name}-stdout").start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            raise LaunchError(f"{name} exited with code {process.wait()} during start; see {log_path}")
        if match := _LISTENING.search(line):
            return int(match.group(1))
    process.kill()
    raise LaunchError(f"{name} did not start within {timeout:.0f}s; see {log_path}")


@dataclasses.dataclass
class ServiceProcess:
    name: str
    process: subprocess.Popen
    port: int
    log_path: pathlib.Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def embedded_env(data_dir: pathlib.Path) -> dict[str, str]:
    """The embedded default: SQLite and Milvus Lite files in the data folder."""
    return {
        "AUDIOSEARCH_METADATA_DATABASE_URL": f"sqlite:///{data_dir / 'metadata.db'}",
        "AUDIOSEARCH_SEARCH_MILVUS_URI": str(data_dir / "vectors.db"),
    }


class Stack:
    """The four services as child processes; a context manager that always stops what it started."""

    def __init__(
        self,
        data_dir: str | pathlib.Path,
        ports: dict[str, int] | None = None,
        import_roots: tuple[str, ...] = (),
        extra_env: dict[str, str] | None = None,
        start_timeout: float = 120.0,
        milvus: str = "lite",
        milvus_port: int = 0,
    ) -> None:
        self.data_dir = pathlib.Path(data_dir).resolve()
        self.ports = ports if ports is not None else dict(DEFAULT_PORTS)
        self.import_roots = import_roots
        self.extra_env = extra_env or {}
        self.start_timeout = start_timeout
        self.services: dict[str, ServiceProcess] = {}
        # "lite": a Milvus Lite file; "server": a local Milvus server (audiosearch.milvus_server) started first.
        if milvus not in ("lite", "server"):
            raise ValueError(f"milvus must be 'lite' or 'server', got {milvus!r}")
        self.milvus = milvus
        self.milvus_port = milvus_port
        self.milvus_server = None

    @property
    def gateway_address(self) -> str:
        return self.services["gateway"].address

    def start(self) -> "Stack":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        try:
            if self.milvus == "server":
                from audiosearch.milvus_server import LocalMilvusServer

                self.milvus_server = LocalMilvusServer(self.data_dir / "milvus", port=self.milvus_port).start()
            # The three peers start in parallel; the gateway, which needs their ports, last.
            peers = [self._spawn(name) for name in SERVICES[:-1]]
            for service in peers:
                service.port = self._read_port(service)
            gateway = self._spawn("gateway")
            gateway.port = self._read_port(gateway)
            for service in self.services.values():
                self._wait_healthy(service)
        except BaseException:
            self.stop()
            raise
        return self

    def _env(self, name: str) -> dict[str, str]:
        env = {**os.environ, **embedded_env(self.data_dir), **self.extra_env}
        if self.milvus_server is not None:
            env["AUDIOSEARCH_SEARCH_MILVUS_URI"] = self.milvus_server.uri
        env[f"AUDIOSEARCH_{name.upper()}_LISTEN"] = f"127.0.0.1:{self.ports.get(name, 0)}"
        if name == "gateway":
            for peer in ("embedding", "search", "metadata"):
                env[f"AUDIOSEARCH_GATEWAY_{peer.upper()}_ADDRESS"] = self.services[peer].address
            env["AUDIOSEARCH_GATEWAY_IMPORT_ROOTS"] = ",".join(self.import_roots)
        return env

    def _spawn(self, name: str) -> ServiceProcess:
        log_path = self.data_dir / "logs" / f"{name}.log"
        module = "gateway.server" if name == "gateway" else f"{name}_service.server"
        with open(log_path, "ab") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", module],
                stdout=subprocess.PIPE,
                stderr=log_file,
                env=self._env(name),
                text=True,
                start_new_session=True,  # Ctrl-C reaches the launcher only; it stops children in order.
            )
        self.services[name] = ServiceProcess(name, process, 0, log_path)
        return self.services[name]

    def _read_port(self, service: ServiceProcess) -> int:
        return announced_port(service.name, service.process, service.log_path, self.start_timeout)

    def _wait_healthy(self, service: ServiceProcess) -> None:
        with grpc.insecure_channel(service.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                response = stub.Check(health_pb2.HealthCheckRequest(), timeout=self.start_timeout, wait_for_ready=True)
            except grpc.RpcError as error:
                raise LaunchError(f"{service.name} health check failed: {error.details()}; see {service.log_path}")
        if response.status != health_pb2.HealthCheckResponse.SERVING:
            raise LaunchError(f"{service.name} is not serving; see {service.log_path}")

    def kill(self, name: str) -> None:
        """SIGKILL one service (its whole process group), as a crash would: no shutdown, no flush."""
        service = self.services[name]
        if service.process.poll() is None:
            try:
                os.killpg(service.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        service.process.wait()

    def restart(self, name: str) -> ServiceProcess:
        """Start a killed (or stopped) service again on the same port, and wait until it is healthy."""
        old = self.services[name]
        if old.process.poll() is None:
            self.kill(name)
        self.ports[name] = old.port  # the gateway keeps dialing the address it was given
        service = self._spawn(name)
        service.port = self._read_port(service)
        self._wait_healthy(service)
        return service

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the gateway first (no new work), then the rest; SIGKILL whatever outlives the timeout."""
        for name in reversed(SERVICES):
            service = self.services.get(name)
            if service and service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for service in self.services.values():
            try:
                service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                service.process.kill()
                service.process.wait()
        self.services.clear()
        if self.milvus_server is not None:  # last: the search service needs it until it stops
            self.milvus_server.stop()
            self.milvus_server = None

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
