"""`audiosearch up` starts the console, prints its URL, and supervises it like the services: killed, it comes back on
the same port. Real processes: the CLI launcher, its services and the console."""

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

START_SECONDS = 120.0


def _lines(process: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _expect(lines: queue.Queue, pattern: str, seen: list[str]) -> re.Match:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        assert line is not None, f"`audiosearch up` exited:\n{''.join(seen)}"
        seen.append(line)
        if match := re.search(pattern, line):
            return match
    raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(seen)}")


def _page(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return response.read()


def test_up_prints_the_console_url_and_restarts_the_console(tmp_path):
    command = [sys.executable, "-m", "audiosearch.tools.cli", "up", "--any-port", "--milvus", "lite"]
    up = subprocess.Popen(
        [*command, "--data-dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines, seen = _lines(up), []
    try:
        pid = int(_expect(lines, r"^console\s+127\.0\.0\.1:\d+\s+pid (\d+)", seen).group(1))
        url = _expect(lines, r"^ready: .*console at (http://127\.0\.0\.1:\d+/)", seen).group(1)
        assert b"audiosearch" in _page(url)
        os.kill(pid, signal.SIGKILL)
        _expect(lines, r"^console restarted on", seen)
        assert b"audiosearch" in _page(url)  # the same URL: the same port
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait()
