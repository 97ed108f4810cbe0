"""The Milvus Lite engine behind the search service: reachable only through the service, and quiet when it works."""

import logging
import os
import signal
import stat
import sys
from pathlib import Path

import pytest
from test_search_server import start

from search_service.vectors import CollectionSpec

from search_data import DIMENSION

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads sockets from /proc")
_LISTEN = "0A"  # TCP state LISTEN in /proc/net/tcp


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed while we looked
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _listening_tcp_ports(pid: int) -> set[int]:
    inodes, ports = _socket_inodes(pid), set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == _LISTEN and fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _unix_socket_paths(pid: int) -> set[Path]:
    inodes, paths = _socket_inodes(pid), set()
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 8 and fields[6] in inodes and fields[7].startswith("/"):
            paths.add(Path(fields[7]))
    return paths


def test_the_lite_engine_listens_on_no_tcp_port_and_only_on_a_private_socket(tmp_path):
    """With tokens on, the service's port is the only way in: no open TCP port to the vectors, and the engine's
    socket file is owner-only in an owner-only folder, and so is the folder of its files."""
    files = tmp_path / "data" / "vectors.db"
    process = start(milvus_uri=str(files))
    try:
        port = int(process.stdout.readline().rsplit(" ", 1)[-1])
        assert _listening_tcp_ports(process.pid) == {port}
        assert stat.S_IMODE(files.stat().st_mode) == 0o700, "nor can they read the vectors' files"
        sockets = _unix_socket_paths(process.pid)
        assert sockets, "the Lite engine should serve on a unix socket"
        for path in sockets:
            assert stat.S_ISSOCK(path.stat().st_mode)
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, oct(path.stat().st_mode)
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700, oct(path.parent.stat().st_mode)
            assert path.parent.stat().st_uid == os.getuid()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert not any(path.exists() for path in sockets), "the socket and its folder go with the process"
    finally:
        process.kill()
        process.communicate()


def test_creating_a_collection_on_lite_logs_no_error(store, caplog):
    """Milvus Lite lacks AllocTimestamp, which pymilvus asks for while creating an index: expected, not an error."""
    with caplog.at_level(logging.INFO):
        store.create("quiet_create", CollectionSpec(DIMENSION, "COSINE", "HNSW"))
    try:
        alarming = [record for record in caplog.records if record.levelno >= logging.WARNING]
        assert [f"{record.name}: {record.getMessage()}" for record in alarming] == []
    finally:
        store.drop("quiet_create")


def test_a_killed_service_leaves_a_socket_the_next_start_replaces(tmp_path):
    files = str(tmp_path / "data" / "vectors.db")
    killed = start(milvus_uri=files)
    try:
        killed.stdout.readline()
        [socket] = _unix_socket_paths(killed.pid)
        killed.kill()
        killed.wait(timeout=30)
        assert socket.exists()
    finally:
        killed.kill()
        killed.communicate()
    process = start(milvus_uri=files)
    try:
        process.stdout.readline()
        assert _unix_socket_paths(process.pid) == {socket}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert not socket.parent.exists()
    finally:
        process.kill()
        process.communicate()
