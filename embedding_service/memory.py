"""Giving freed memory back to the OS: glibc keeps freed heap for reuse, so one big call would leave RSS high."""

import ctypes

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks this large or larger get their own mapping, unmapped when freed. Setting it also stops glibc from raising
# the threshold (up to 32 MiB) each time a big block is freed, which moves later big arrays onto the heap.
MMAP_THRESHOLD = 256 * 1024
# Free heap above this at the top of an arena is returned at once.
TRIM_THRESHOLD = 1024 * 1024


def return_freed_memory() -> bool:
    """Make the allocator give big freed blocks back to the OS; False where the C library is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
