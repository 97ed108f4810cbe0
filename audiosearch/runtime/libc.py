"""The process's C library, for the few calls Python's os module lacks (mallopt, syncfs)."""

import ctypes
import functools


@functools.cache
def function(name: str):
    """The C library's function `name` (errno kept for ctypes.get_errno), or None where it has none."""
    try:
        return getattr(ctypes.CDLL(None, use_errno=True), name, None)
    except OSError:
        return None
