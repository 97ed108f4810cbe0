"""Giving freed memory back to the OS: glibc keeps freed heap for reuse, so one big call would leave RSS high."""

import ctypes

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks this large or larger get their own mapping, unmapped when freed. Setting it also stops glibc from raising
# the threshold (up to 32 MiB) each time a big block is freed, which moves later big arrays onto the heap. Below it,
# freed blocks are reused: a 5-s clip's arrays (frames, spectra: ~1 MB each) mapped and unmapped per call faulted in
# 3.6 MB of fresh pages (~900 faults), a third of logmel's CPU: 11 ms per clip at 256 KiB, ~7 at 4 MiB (84 -> 120-140
# clips/s on one client). A long clip's decoded audio and blocks are still mapped and given back whole.
MMAP_THRESHOLD = 4 * 1024 * 1024
# Free heap above this at the top of an arena is returned at once: bench/decode_bomb's RSS after two decoded
# 10-minute bombs stays 1.06x its baseline (1.22x at 16 MiB).
TRIM_THRESHOLD = 8 * 1024 * 1024


def return_freed_memory() -> bool:
    """Make the allocator give big freed blocks back to the OS; False where the C library is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
