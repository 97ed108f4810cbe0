"""A process-wide budget of decoded samples, so concurrent calls cannot together hold more audio than planned."""

import contextlib
import threading
from collections.abc import Iterator

from audiosearch.sdk import errors


class SampleBudget:
    """Up to `capacity` samples held at once, by all calls together."""

    def __init__(self, capacity: int, wait_seconds: float) -> None:
        self.capacity = capacity
        self.wait_seconds = wait_seconds
        self._held = 0
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def hold(self, samples: int) -> Iterator[None]:
        """Reserve `samples` for the with-block; waits up to wait_seconds for room, then raises ResourceExhausted."""
        if samples > self.capacity:
            raise errors.ResourceExhausted(
                f"the audio decodes to {samples} samples at the model's rate; the service holds at most "
                f"{self.capacity} at once: send a shorter clip or a lower sample rate",
                "DECODE_BUDGET_EXHAUSTED",
            )
        with self._changed:
            if not self._changed.wait_for(lambda: self._held + samples <= self.capacity, self.wait_seconds):
                raise errors.ResourceExhausted(
                    f"decoding {samples} samples would exceed the {self.capacity} the service holds at once "
                    f"({self._held} in use); retry later",
                    "DECODE_BUDGET_EXHAUSTED",
                )
            self._held += samples
        try:
            yield
        finally:
            with self._changed:
                self._held -= samples
                self._changed.notify_all()
