"""Progress of an evaluation as plain lines, for a stderr that is not a terminal (logs, CI, `2> file`).

A bar redrawn with carriage returns is unreadable there, and long runs (tens of minutes) need a sign of life.
"""

import time
from typing import TextIO

DEFAULT_INTERVAL_SECONDS = 15.0


class ProgressLines:
    """A stage's first step, then at most one line per `interval_seconds`, and its last step."""

    def __init__(self, stream: TextIO, interval_seconds: float = DEFAULT_INTERVAL_SECONDS, clock=time.monotonic):
        self.stream = stream
        self.interval_seconds = interval_seconds
        self.clock = clock
        self.stage = ""
        self.started = self.last_line = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        if stage != self.stage:
            self.stage, self.started = stage, now
        elif done < total and now - self.last_line < self.interval_seconds:
            return
        self.last_line = now
        percent = 100 * done // max(total, 1)
        self.stream.write(f"eval: {stage} {done}/{total} ({percent}%, {now - self.started:.0f} s)\n")
        self.stream.flush()
