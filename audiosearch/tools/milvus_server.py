"""A local Milvus server without Docker: the standalone binary that the `milvus` PyPI wheel ships.

`audiosearch up --milvus server` and `audiosearch milvus-server --data-dir DIR` use it, and so do the tests that need
a real server. The binary runs in its own process group with its data under the data folder; stop() sends SIGTERM,
then SIGKILL to the whole group after a timeout, because a Milvus server can take minutes to stop gracefully.

Why not `milvus.default_server`: its stop() kills the process after one second without waiting for the group, it
extracts ~200 MB of binaries into every data folder, and its port probing binds and releases sockets (a race). We
use only its two stable pieces: the compressed binaries and the config template renderer.
"""

import argparse
import contextlib
import hashlib
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

# Components that announce an address to the others; pinning them to loopback keeps traffic on this machine.
_COMPONENTS = ("rootCoord", "proxy", "queryCoord", "queryNode", "indexNode", "dataCoord", "dataNode")
_PORT_KEYS = (
    "etcd_port",
    "root_coord_port",
    "proxy_internal_port",
    "query_coord_port",
    "query_node_port",
    "index_coord_port",
    "index_node_port",
    "data_coord_port",
    "data_node_port",
)
DEFAULT_PORT = 19530
# Milvus's default is 512; see _write_config.
SEGMENT_MAX_MIB = 1024
SEAL_IDLE_SECONDS = 60


class MilvusServerError(RuntimeError):
    """The Milvus server could not be installed, started or reached; the message says what to do."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _milvus_package():
    try:
        import milvus  # the PyPI wheel `milvus` (server binary), not pymilvus
    except ImportError:
        raise MilvusServerError(
            "the local Milvus server needs the `milvus` package: pip install 'milvus==2.3.5' "
            "(scripts/setup.sh dev installs it)"
        ) from None
    return milvus


def cache_dir() -> pathlib.Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "audiosearch" / "milvus-server"


def install_binaries() -> pathlib.Path:
    """Extract the wheel's compressed binaries once per version into the user cache; returns the bin folder."""
    milvus = _milvus_package()
    root = cache_dir() / milvus.__version__
    marker = root / "bin" / ".complete"
    if not marker.exists():
        root.mkdir(parents=True, exist_ok=True)
        # One extractor at a time (parallel test sessions); the package skips files whose md5 already matches.
        lock = root / ".lock"
        with open(lock, "w") as handle:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
            if not marker.exists():
                milvus._initialize_data_files(str(root))
                marker.write_text(hashlib.sha256(milvus.__version__.encode()).hexdigest())
    return root / "bin"


class LocalMilvusServer:
    """One standalone Milvus server process; a context manager that always stops what it started."""

    def __init__(
        self,
        data_dir: str | pathlib.Path,
        port: int = DEFAULT_PORT,
        start_timeout: float = 120.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.data_dir = pathlib.Path(data_dir).resolve()
        self.port = port or _free_port()
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.health_port = 0
        self.process: subprocess.Popen | None = None
        self._lock = threading.Lock()
        # Rendered once: a restart (after kill or stop) reuses the same ports, so its embedded etcd is where it was;
        # rendering again would also fail, as the wheel's renderer probes ports without SO_REUSEADDR (TIME_WAIT).
        self._config_dir: pathlib.Path | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_dir(self) -> pathlib.Path:
        return self.data_dir / "logs"

    def _write_config(self) -> pathlib.Path:
        milvus = _milvus_package()
        ports = {key: _free_port() for key in _PORT_KEYS}
        config = milvus.MilvusServerConfig(data_dir=str(self.data_dir), proxy_port=self.port, **ports)
        for component in _COMPONENTS:
            config.set(f"{component}.ip", "127.0.0.1")
        # Milvus waits up to 30 minutes for in-flight work on SIGTERM by default; ours stop() kills after a timeout.
        config.set("common.gracefulStopTimeout", max(1, int(self.stop_timeout / 3)))
        # A search visits every sealed segment, each with its own index, at a fixed cost per segment: on 2 cores,
        # 650k vectors in three 512 MB segments searched in 2.6 ms, in one or two in 1.7-1.9 ms (bench/search).
        # Compaction merges small segments up to this size.
        config.set("dataCoord.segment.maxSize", SEGMENT_MAX_MIB)
        # Rows written since a segment was last sealed are searched without their index, by brute force: 10k
        # speaker rows took 4 ms per search growing, 0.2 ms sealed (bench/speaker_identify). Milvus seals an idle
        # segment only after 10 minutes and from 16 MB (a speaker index of 16k rows), so a library that stopped
        # changing could stay unindexed for a day; ours seal after a minute of no writes, from 1 MB.
        config.set("dataCoord.segment.maxIdleTime", SEAL_IDLE_SECONDS)
        config.set("dataCoord.segment.minSizeFromIdleToSealed", 1)
        config.resolve()  # renders <data_dir>/configs/milvus.yaml and makes logs/ and data/
        config_dir = self.data_dir / "configs"
        # The embedded etcd listens on 2379/2380 unless given its own config, so two servers would collide.
        client, peer = ports["etcd_port"], _free_port()
        etcd_config = config_dir / "embed-etcd.yaml"
        etcd_config.write_text(
            f"name: audiosearch\n"
            f"listen-client-urls: http://127.0.0.1:{client}\n"
            f"advertise-client-urls: http://127.0.0.1:{client}\n"
            f"listen-peer-urls: http://127.0.0.1:{peer}\n"
            f"initial-advertise-peer-urls: http://127.0.0.1:{peer}\n"
            f"initial-cluster: audiosearch=http://127.0.0.1:{peer}\n"
        )
        milvus_yaml = config_dir / "milvus.yaml"
        text = milvus_yaml.read_text()
        milvus_yaml.write_text(text.replace("etcd:\n", f"etcd:\n  config:\n    path: {etcd_config}\n", 1))
        return config_dir

    def start(self) -> "LocalMilvusServer":
        if self.process is not None:
            return self
        if _port_in_use(self.port):
            raise MilvusServerError(
                f"port {self.port} is taken (another Milvus?); stop it, or pick another port (--milvus-port)"
            )
        bin_dir = install_binaries()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config_dir = self._config_dir = self._config_dir or self._write_config()
        self.health_port = _free_port()
        env = {
            **os.environ,
            "DEPLOY_MODE": "STANDALONE",
            "METRICS_PORT": str(self.health_port),
            "MILVUSCONF": str(config_dir),
            "MILVUS_RUN_DIR": str(self.data_dir / "run"),
            "LD_LIBRARY_PATH": ":".join(filter(None, [str(bin_dir), os.environ.get("LD_LIBRARY_PATH", "")])),
        }
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (
            open(self.log_dir / "milvus-stdout.log", "ab") as out,
            open(self.log_dir / "milvus-stderr.log", "ab") as err,
        ):
            self.process = subprocess.Popen(
                [str(bin_dir / "milvus"), "run", "standalone"],
                cwd=self.data_dir,
                env=env,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own group: Ctrl-C reaches the launcher, and stop() kills the group
            )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        url = f"http://127.0.0.1:{self.health_port}/healthz"
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise MilvusServerError(
                    f"the Milvus server exited with code {self.process.returncode} during start; "
                    f"see {self.log_dir}/milvus-stderr.log"
                )
            with contextlib.suppress(OSError, urllib.error.URLError):
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200 and b"OK" in response.read() and _port_in_use(self.port):
                        return
            time.sleep(0.2)
        raise MilvusServerError(
            f"the Milvus server was not healthy within {self.start_timeout:.0f}s; see {self.log_dir}"
        )

    def kill(self) -> None:
        """SIGKILL the server's whole process group at once, as a crash would; start() brings it back on the same
        ports and data."""
        with self._lock:
            process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL it after stop_timeout; idempotent."""
        with self._lock:
            process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            pass
        # Also when the leader exited: nothing of the group may outlive us.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def __enter__(self) -> "LocalMilvusServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """`audiosearch milvus-server`: run a local Milvus server in the foreground until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="audiosearch milvus-server", description=main.__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default="data/milvus", help="where the server keeps its data and logs")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="gRPC port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--stop-timeout", type=float, default=10.0, help="seconds after SIGTERM before SIGKILL")


def run(args) -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        server = LocalMilvusServer(args.data_dir, port=args.port, stop_timeout=args.stop_timeout)
        with server:
            print(
                f"milvus server ready at {server.uri} (data and logs: {server.data_dir}); Ctrl-C stops it", flush=True
            )
            stop.wait()
            print("stopping milvus...", flush=True)
    except MilvusServerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
