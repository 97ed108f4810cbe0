"""A throwaway MariaDB server of our own (its own data folder, port and socket), so a test can SIGKILL it and start it
again without touching any MariaDB the machine already runs.

`mariadb-install-db --no-defaults` makes the system tables (root with an empty password over TCP); `mariadbd
--no-defaults` runs it, ignoring the machine's my.cnf. Durable commits are InnoDB's default
(innodb_flush_log_at_trx_commit=1), as in production.
"""

import contextlib
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

import pymysql

_SERVERS = ("/usr/sbin/mariadbd", "mariadbd", "/usr/sbin/mysqld", "mysqld")
_INSTALLERS = ("mariadb-install-db", "mysql_install_db")


def _find(candidates: tuple[str, ...]) -> str | None:
    for candidate in candidates:
        found = shutil.which(candidate) or (candidate if os.access(candidate, os.X_OK) else None)
        if found:
            return found
    return None


def binaries() -> tuple[str, str] | None:
    """(server, installer) when both are installed here, else None."""
    server, installer = _find(_SERVERS), _find(_INSTALLERS)
    return (server, installer) if server and installer else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayMariaDB:
    """One mariadbd process in its own process group; start() again after kill() reuses its data and port."""

    def __init__(self, base_dir: str | pathlib.Path, start_timeout: float = 60.0) -> None:
        found = binaries()
        if found is None:
            raise RuntimeError("MariaDB is not installed here (mariadbd and mariadb-install-db are needed)")
        self.server, self.installer = found
        self.base_dir = pathlib.Path(base_dir).resolve()
        self.data_dir = self.base_dir / "data"
        self.port = _free_port()
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None

    def url(self, database: str) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/{database}"

    def _user_args(self) -> list[str]:
        return ["--user=root"] if os.geteuid() == 0 else []  # mariadbd refuses to run as root unless told so

    def _install(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                self.installer,
                "--no-defaults",
                f"--datadir={self.data_dir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *self._user_args(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{self.installer} failed ({result.returncode}): {result.stdout[-2000:]}{result.stderr[-2000:]}"
            )

    def start(self) -> "ThrowawayMariaDB":
        if self.process is not None:
            return self
        if not (self.data_dir / "mysql").is_dir():
            self._install()
        with open(self.base_dir / "mariadbd.out", "ab") as out:
            self.process = subprocess.Popen(
                [
                    self.server,
                    "--no-defaults",
                    f"--datadir={self.data_dir}",
                    f"--port={self.port}",
                    "--bind-address=127.0.0.1",
                    f"--socket={self.base_dir / 'mariadbd.sock'}",
                    f"--pid-file={self.base_dir / 'mariadbd.pid'}",
                    f"--log-error={self.base_dir / 'error.log'}",
                    "--skip-log-bin",
                    "--innodb-buffer-pool-size=64M",
                    "--max-connections=500",
                    *self._user_args(),
                ],
                stdout=out,
                stderr=out,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd exited with {self.process.returncode}; see {self.base_dir / 'error.log'}")
            try:
                pymysql.connect(host="127.0.0.1", port=self.port, user="root", password="", connect_timeout=2).close()
                return self
            except pymysql.err.OperationalError:
                if time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(f"mariadbd did not accept connections in {self.start_timeout:.0f}s") from None
                time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown, InnoDB recovers from its redo log on the next start."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self, timeout: float = 30.0) -> None:
        process = self.process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def __enter__(self) -> "ThrowawayMariaDB":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
