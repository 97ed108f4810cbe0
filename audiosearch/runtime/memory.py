"""How glibc's allocator treats big blocks, set by each service at start: the services' work is big short-lived
blocks (decoded audio, spectra, messages of uploads and batches), and each fresh page costs a fault (~1 us each).

Blocks at or above the mmap threshold get their own mapping, unmapped when freed, so the next one faults in fresh
zeroed pages; below it, freed blocks are reused from the heap. Free heap above the trim threshold at the top of an
arena is returned at once, which bounds what a service keeps after a big call. Setting either also stops glibc from
moving the thresholds by itself (it raises the mmap threshold up to 32 MiB as big blocks are freed, keeping them).
"""

from dataclasses import dataclass

from audiosearch.runtime import libc

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MIB = 1024 * 1024


@dataclass(frozen=True)
class AllocatorThresholds:
    mmap_bytes: int
    trim_bytes: int


# The embedding service: a 5-s clip's arrays (frames, spectra: ~1 MB each) mapped and unmapped per call faulted in
# 3.6 MB of fresh pages, a third of logmel's CPU (11 ms per clip at 256 KiB, ~7 at 4 MiB: 84 -> 120-140 clips/s on
# one client). A long clip's decoded audio and blocks are still mapped and given back whole: bench/decode_bomb's RSS
# after two decoded 10-minute bombs stays 1.06x its baseline (1.22x with 8 and 16 MiB).
DECODING = AllocatorThresholds(mmap_bytes=4 * MIB, trim_bytes=8 * MIB)
# The gateway and the metadata service: an import job's batch of kept audio is a message of up to 4 MiB
# (audiosearch/sdk/upload.py), built, sent, received and parsed per batch, ~16 MB of blocks freed together; with
# glibc's own thresholds, or a trim threshold of 16 MiB, each 160-KB clip faulted 120-190 fresh pages: 0.67 ms of CPU
# per clip at each end, against 0.17 ms with these (tests/test_memory.py).
MESSAGES = AllocatorThresholds(mmap_bytes=8 * MIB, trim_bytes=32 * MIB)


def set_allocator_thresholds(thresholds: AllocatorThresholds) -> bool:
    """Apply `thresholds` to this process; False where the C library is not glibc (nothing changes)."""
    mallopt = libc.function("mallopt")
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, thresholds.mmap_bytes) and mallopt(_M_TRIM_THRESHOLD, thresholds.trim_bytes))
