"""Per-call context carried across threads of one RPC: request id and the caller's deadline.

The server interceptor sets these; outbound clients read them, so deadlines propagate without cores knowing gRPC.
"""

import contextvars
import time
import uuid

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def set_deadline(seconds_remaining: float | None) -> None:
    _deadline.set(None if seconds_remaining is None else time.monotonic() + seconds_remaining)


def timeout_for(default_seconds: float) -> float:
    """Timeout for an outbound call: the default, capped by what remains of the caller's deadline less a reserve
    (a tenth, at most 0.5 s) for answering, so a caller reads why we failed (e.g. the store is UNAVAILABLE) rather
    than its own DEADLINE_EXCEEDED."""
    deadline = _deadline.get()
    if deadline is None:
        return default_seconds
    remaining = deadline - time.monotonic()
    return max(0.001, min(default_seconds, remaining - min(0.5, remaining / 10)))
