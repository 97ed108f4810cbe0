"""Starts the four services as separate local processes on the embedded default, and stops them all.

Used by `audiosearch up`, the demo and the end-to-end tests. Each service announces its port on stdout
("<name> listening on port N"), so services can bind port 0; their logs go to files under the data folder.
`Supervisor` keeps a started stack running for `audiosearch up`: it restarts a service that exits, on the same port.
"""

import dataclasses
import importlib.util
import os
import pathlib
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

_LISTENING = re.compile(r"listening on port (\d+)")

# Start order: the gateway needs the other three's addresses.
SERVICES = ("metadata", "search", "embedding", "gateway")
# The web console (HTTP, not gRPC) starts after the gateway it calls, when a Stack is asked for it.
CONSOLE = "console"
MILVUS = "milvus"  # the local Milvus server, when the Stack starts one: supervised like the services
DEFAULT_PORTS = {"gateway": 50051, "embedding": 50052, "search": 50053, "metadata": 50054, CONSOLE: 8080}
MODULES = {"gateway": "gateway.server", CONSOLE: "console.server"}


# Vector stores a Stack can start: "auto" is what `audiosearch up` starts by default (see resolve_milvus).
MILVUS_CHOICES = ("auto", "lite", "server")


def resolve_milvus(choice: str) -> str:
    """The store ("lite" or "server") a Stack's `milvus` choice starts. "auto" is the local Milvus server whenever its
    package (the `milvus` wheel) is installed: Milvus Lite 3.x walks rows in Python per query (0.3 s at 20k vectors,
    seconds at 100k), where the server answers 100k in a few ms at recall@10 0.99 (docs/vector-stores.md)."""
    if choice not in MILVUS_CHOICES:
        raise ValueError(f"milvus must be one of {', '.join(MILVUS_CHOICES)}, got {choice!r}")
    if choice == "auto":
        return "server" if importlib.util.find_spec("milvus") is not None else "lite"
    return choice


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
    """The embedded default: SQLite and Milvus Lite files in the data folder, kept audio in its audio/ folder."""
    return {
        "AUDIOSEARCH_METADATA_DATABASE_URL": f"sqlite:///{data_dir / 'metadata.db'}",
        "AUDIOSEARCH_METADATA_AUDIO_URL": f"file://{data_dir / 'audio'}",
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
        console: bool = False,
    ) -> None:
        self.data_dir = pathlib.Path(data_dir).resolve()
        # Port 0 entries are replaced by the port bound at first start, so a restart binds the same one.
        self.ports = dict(ports) if ports is not None else dict(DEFAULT_PORTS)
        self.import_roots = import_roots
        self.extra_env = extra_env or {}
        self.start_timeout = start_timeout
        self.services: dict[str, ServiceProcess] = {}
        # "lite": a Milvus Lite file; "server": a local Milvus server (audiosearch.tools.milvus_server) started first;
        # "auto": the server when its package is installed, else Lite.
        self.milvus = resolve_milvus(milvus)
        self.milvus_port = milvus_port
        self.milvus_server = None
        self.console = console

    @property
    def console_url(self) -> str:
        return f"http://{self.services[CONSOLE].address}/"

    @property
    def gateway_address(self) -> str:
        return self.services["gateway"].address

    def start(self) -> "Stack":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        try:
            if self.milvus == "server":
                from audiosearch.tools.milvus_server import LocalMilvusServer

                self.milvus_server = LocalMilvusServer(self.data_dir / "milvus", port=self.milvus_port).start()
            # The three peers start in parallel; the gateway, which needs their ports, last.
            peers = [self._spawn(name) for name in SERVICES[:-1]]
            for service in peers:
                service.port = self._read_port(service)
            gateway = self._spawn("gateway")
            gateway.port = self._read_port(gateway)
            if self.console:
                console = self._spawn(CONSOLE)
                console.port = self._read_port(console)
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
        if name == CONSOLE:
            env["AUDIOSEARCH_CONSOLE_GATEWAY_ADDRESS"] = self.gateway_address
        return env

    def _spawn(self, name: str) -> ServiceProcess:
        log_path = self.data_dir / "logs" / f"{name}.log"
        module = MODULES.get(name, f"{name}_service.server")
        with open(log_path, "ab") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", module],
                stdout=subprocess.PIPE,
                stderr=log_file,
                env=self._env(name),
                text=True,
                start_new_session=True,  # Ctrl-C reaches the launcher only; it stops children in order.
            )
        self.services[name] = ServiceProcess(name, process, self.ports.get(name, 0), log_path)
        return self.services[name]

    def _read_port(self, service: ServiceProcess) -> int:
        port = announced_port(service.name, service.process, service.log_path, self.start_timeout)
        self.ports[service.name] = port
        return port

    def _wait_healthy(self, service: ServiceProcess) -> None:
        if service.name == CONSOLE:  # HTTP: it announces its port once it serves
            return
        with grpc.insecure_channel(service.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                response = stub.Check(health_pb2.HealthCheckRequest(), timeout=self.start_timeout, wait_for_ready=True)
            except grpc.RpcError as error:
                raise LaunchError(
                    f"{service.name} health check failed: {error.details()}; see {service.log_path}"
                ) from None
        if response.status != health_pb2.HealthCheckResponse.SERVING:
            raise LaunchError(f"{service.name} is not serving; see {service.log_path}")

    def supervised(self) -> list[ServiceProcess]:
        """The processes a Supervisor keeps running: the services, and the local Milvus server when there is one."""
        return [*self.services.values(), *([self._milvus_process()] if self.milvus_server is not None else [])]

    def _milvus_process(self) -> ServiceProcess:
        server = self.milvus_server
        return ServiceProcess(MILVUS, server.process, server.port, server.log_dir / "milvus-stderr.log")

    def kill(self, name: str) -> None:
        """SIGKILL one service (its whole process group), as a crash would: no shutdown, no flush.

        The group is killed even when the service itself already died: what it started may still hold its files."""
        if name == MILVUS:
            self.milvus_server.kill()
            return
        service = self.services[name]
        try:
            os.killpg(service.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        service.process.wait()

    def restart(self, name: str) -> ServiceProcess:
        """Start a killed (or stopped) service again on the same port, and wait until it is healthy."""
        if name == MILVUS:  # same port and data: the search service's channel reconnects, and it loads again
            from audiosearch.tools.milvus_server import MilvusServerError

            self.milvus_server.kill()
            try:
                self.milvus_server.start()
            except MilvusServerError as error:
                raise LaunchError(str(error)) from None
            return self._milvus_process()
        if self.services[name].process.poll() is None:
            self.kill(name)
        service = self._spawn(name)  # on self.ports[name], the port it bound first: peers keep dialing that address
        service.port = self._read_port(service)
        self._wait_healthy(service)
        return service

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the console and the gateway first (no new work), then the rest; SIGKILL whatever outlives the
        timeout."""
        for name in reversed((*SERVICES, CONSOLE)):
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


@dataclasses.dataclass(frozen=True)
class RestartPolicy:
    """How a service that exits is restarted: after a back-off that doubles up to a bound, at most `max_restarts`
    times in any `window_seconds`; one more exit in that window and it is given up as failed."""

    max_restarts: int = 5
    window_seconds: float = 60.0
    first_delay_seconds: float = 0.5
    max_delay_seconds: float = 30.0

    def delay(self, recent_restarts: int) -> float:
        """Seconds to wait before restarting a service restarted `recent_restarts` times inside the window."""
        return min(self.max_delay_seconds, self.first_delay_seconds * 2**recent_restarts)


def describe_exit(returncode: int) -> str:
    """How a process ended, from its Popen returncode: "exited with code 1" or "was killed by SIGKILL"."""
    if returncode >= 0:
        return f"exited with code {returncode}"
    try:
        return f"was killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"was killed by signal {-returncode}"


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


_STOP = object()


class Supervisor:
    """Keeps a started Stack's services (and its local Milvus server) running: reaps one that exits, logs how it
    ended, and restarts it on the port it had, following a RestartPolicy. Events arrive on one queue, so no loop
    polls."""

    def __init__(
        self, stack: Stack, policy: RestartPolicy = RestartPolicy(), log: Callable[[str], None] = _to_stderr
    ) -> None:
        self.stack = stack
        self.policy = policy
        self.log = log
        self._events: queue.SimpleQueue = queue.SimpleQueue()  # SimpleQueue.put is safe inside a signal handler
        self._restarts: dict[str, list[float]] = {}  # name -> when it was restarted (monotonic), within the window
        self._due: dict[str, float] = {}  # name -> when to restart it
        self._addresses: dict[str, str] = {}  # name -> where it serves (a restart keeps it)

    def request_stop(self) -> None:
        """Make run() return; safe to call from a signal handler."""
        self._events.put(_STOP)

    def run(self) -> str | None:
        """Supervise until request_stop() (returns None) or until a service fails for good (returns its name)."""
        for service in self.stack.supervised():
            self._watch(service)
        while (event := self._next_event()) is not _STOP:
            failed = self._restart_due() if event is None else self._on_exit(event)
            if failed:
                return failed
        return None

    def _watch(self, service: ServiceProcess) -> None:
        self._addresses[service.name] = service.address

        def wait() -> None:
            service.process.wait()  # reaps it at once: no zombie while the launcher runs
            self._events.put(service)

        threading.Thread(target=wait, daemon=True, name=f"{service.name}-watch").start()

    def _next_event(self):
        """A ServiceProcess that exited, _STOP, or None when a restart is due."""
        timeout = max(0.0, min(self._due.values()) - time.monotonic()) if self._due else None
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def _on_exit(self, service: ServiceProcess) -> str | None:
        self.log(f"{service.name} (pid {service.process.pid}) {describe_exit(service.process.returncode)}; "
                 f"see {service.log_path}")  # fmt: skip
        self.stack.kill(service.name)  # what it started may outlive it and hold its files
        return self._schedule(service.name)

    def _schedule(self, name: str) -> str | None:
        now = time.monotonic()
        recent = [at for at in self._restarts.get(name, []) if now - at < self.policy.window_seconds]
        self._restarts[name] = recent
        if len(recent) >= self.policy.max_restarts:
            self.log(f"{name} failed: it exited after {len(recent)} restart(s) in {self.policy.window_seconds:g}s, "
                     f"the most allowed; not restarting it")  # fmt: skip
            return name
        delay = self.policy.delay(len(recent))
        self._due[name] = now + delay
        self.log(f"{name} restarting on {self._addresses[name]} in {delay:g}s")
        return None

    def _restart_due(self) -> str | None:
        now = time.monotonic()
        for name in [name for name, due in self._due.items() if due <= now]:
            del self._due[name]
            if failed := self._restart(name):
                return failed
        return None

    def _restart(self, name: str) -> str | None:
        self._restarts[name].append(time.monotonic())
        try:
            service = self.stack.restart(name)
        except LaunchError as error:
            self.log(f"{name} did not come back: {error}")
            self.stack.kill(name)  # a half-started one would hold the port
            return self._schedule(name)
        self.log(f"{name} restarted on {service.address} (pid {service.process.pid})")
        self._watch(service)
        return None
