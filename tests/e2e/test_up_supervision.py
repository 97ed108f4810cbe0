"""`audiosearch up --any-port` keeps its services running (issue #11): a killed service is logged, restarted on the
port it had (so the gateway's channels reconnect), and reaped; past the restart cap `up` reports it failed and stops.

Real processes throughout: the CLI launcher, its four services, SIGKILL from the test.
"""

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

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from audiosearch.client import AudioSearchClient
from audiosearch.sdk import errors
from audiosearch.tools import synth

START_SECONDS = 120.0
_SERVICE_LINE = re.compile(r"^(\w+)\s+(127\.0\.0\.1:\d+)\s+pid (\d+)")


class Up:
    """`audiosearch up --any-port` as a child process; its output read line by line with deadlines."""

    def __init__(self, data_dir: pathlib.Path, *options: str) -> None:
        command = [sys.executable, "-m", "audiosearch.tools.cli", "up", "--any-port", "--data-dir", str(data_dir)]
        command += options
        self.popen = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        self.services: dict[str, tuple[str, int]] = {}  # name -> (address, pid)
        while not (line := self.expect(r"^ready:|^\w+\s+127\.0\.0\.1:", START_SECONDS)).startswith("ready:"):
            name, address, pid = _SERVICE_LINE.match(line).groups()
            self.services[name] = (address, int(pid))

    def _pump(self) -> None:
        for line in self.popen.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, pattern: str, timeout: float) -> str:
        """The next output line that matches `pattern`; fails with everything seen if none comes in time."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                pytest.fail(f"`up` exited ({self.popen.wait()}) before printing {pattern!r}:\n" + "\n".join(self.seen))
            self.seen.append(line)
            if re.search(pattern, line):
                return line
        pytest.fail(f"`up` printed no {pattern!r} within {timeout:.0f}s:\n" + "\n".join(self.seen))

    def close(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
            try:
                self.popen.wait(60)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        for pid in self.pids():  # a test that failed midway may leave services without a launcher
            _kill_group(pid)

    def pids(self) -> set[int]:
        """Every service pid `up` printed, restarted ones included."""
        return {int(pid) for line in self.seen for pid in re.findall(r"\bpid (\d+)", line)}


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _state(pid: int) -> str:
    """The process's state letter from /proc (Z: a zombie nobody reaped), or "" if the pid is gone."""
    try:
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return ""
    return re.search(r"^State:\s+(\S)", status, re.MULTILINE).group(1)


def _serving(address: str) -> bool:
    with grpc.insecure_channel(address) as channel:
        request = health_pb2.HealthCheckRequest()
        response = health_pb2_grpc.HealthStub(channel).Check(request, timeout=30, wait_for_ready=True)
    return response.status == health_pb2.HealthCheckResponse.SERVING


def _stats_through_gateway(address: str, timeout: float) -> list:
    """Stats via the gateway, polled until its channel to the restarted peer has reconnected."""
    deadline = time.monotonic() + timeout
    with AudioSearchClient(address) as client:
        while True:
            try:
                return client.stats()
            except errors.AudioSearchError:
                if time.monotonic() > deadline:
                    raise


@pytest.fixture
def up(tmp_path):
    launchers = []

    def start(*options: str) -> Up:
        launchers.append(Up(tmp_path / f"up-{len(launchers)}", *options))
        return launchers[-1]

    yield start
    for launcher in launchers:
        launcher.close()


def test_a_killed_service_is_logged_restarted_on_its_port_and_reaped(up):
    stack = up()
    # The default vector store (issue #14): the local Milvus server whenever its package is installed.
    store = r"^milvus\s+http://127\.0\.0\.1:\d+" if importlib.util.find_spec("milvus") else r"^milvus\s+Milvus Lite"
    assert any(re.match(store, line) for line in stack.seen), stack.seen
    address, pid = stack.services["search"]
    os.kill(pid, signal.SIGKILL)  # the service alone, as the OOM killer would

    died = stack.expect(r"^search\b.*(exited|killed)", 30)
    assert f"pid {pid}" in died and "SIGKILL" in died
    restarted = stack.expect(r"^search\b.*restarted", START_SECONDS)
    assert address in restarted
    new_pid = int(re.search(r"pid (\d+)", restarted).group(1))
    assert new_pid != pid and _state(new_pid) not in ("", "Z")
    assert _state(pid) in ("", "X"), f"pid {pid} left as state {_state(pid)!r}"
    assert _serving(address)
    assert _stats_through_gateway(stack.services["gateway"][0], 30) == []

    stack.close()  # Ctrl-C: the restarted service stops with the rest, and every child is reaped
    assert stack.popen.returncode == 0
    assert all(_state(service_pid) == "" for service_pid in stack.pids())


def test_a_killed_milvus_server_is_restarted_and_its_vectors_are_searched_again(up):
    """The default vector store is a process of its own: `up` restarts it too, on its port and data."""
    if importlib.util.find_spec("milvus") is None:
        pytest.skip("the local Milvus server package is not installed (Milvus Lite runs inside the search service)")
    stack = up()
    pid = int(re.search(r"pid (\d+)", next(line for line in stack.seen if line.startswith("milvus"))).group(1))
    clip = synth.encode(synth.generate("siren", 3, 2.0), 16000)
    with AudioSearchClient(stack.services["gateway"][0]) as client:
        client.create_collection("kept", model="logmel")
        clip_id = client.ingest(clip, "kept").clip.id
        os.killpg(pid, signal.SIGKILL)  # the server and what it started, as a crash would

        died = stack.expect(r"^milvus\b.*(exited|killed)", 30)
        assert f"pid {pid}" in died and "SIGKILL" in died
        restarted = stack.expect(r"^milvus\b.*restarted", START_SECONDS)
        assert int(re.search(r"pid (\d+)", restarted).group(1)) != pid
        assert _state(pid) in ("", "X"), f"pid {pid} left as state {_state(pid)!r}"
        deadline = time.monotonic() + 60
        while True:  # until the search service's channel has reconnected and the collection is loaded again
            try:
                hits = client.search("kept", audio=clip, top_k=1).hits
                break
            except errors.AudioSearchError:
                if time.monotonic() > deadline:
                    raise
        assert [hit.clip.id for hit in hits] == [clip_id]

    stack.close()
    assert stack.popen.returncode == 0
    assert all(_state(child) == "" for child in stack.pids())


def test_a_service_that_keeps_dying_is_reported_failed_and_up_stops_everything(up):
    stack = up("--max-restarts", "1", "--restart-window", "600")
    pid = stack.services["metadata"][1]
    os.kill(pid, signal.SIGKILL)
    restarted = stack.expect(r"^metadata\b.*restarted", START_SECONDS)
    os.kill(int(re.search(r"pid (\d+)", restarted).group(1)), signal.SIGKILL)

    failed = stack.expect(r"^metadata\b.*failed", 30)
    assert "1 restart" in failed
    assert stack.popen.wait(60) == 1
    assert all(_state(service_pid) == "" for service_pid in stack.pids()), "a service outlived `up`"


def test_restart_delays_grow_and_stay_bounded():
    from audiosearch.tools.launcher import RestartPolicy

    policy = RestartPolicy(max_restarts=10, window_seconds=60, first_delay_seconds=0.5, max_delay_seconds=4)
    assert [policy.delay(recent) for recent in range(6)] == [0.5, 1, 2, 4, 4, 4]


def test_an_exit_is_described_by_its_code_or_its_signal():
    from audiosearch.tools.launcher import describe_exit

    assert describe_exit(3) == "exited with code 3"
    assert describe_exit(-signal.SIGKILL) == "was killed by SIGKILL"
