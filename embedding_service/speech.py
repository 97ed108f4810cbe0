"""Net speech of a clip by frame energy: the speaker RPCs refuse enrollments with too little of it and flag short
test audio. An energy detector, not a speech classifier: any loud sound counts (see docs/speakers.md)."""

import numpy as np

FRAME_SECONDS = 0.03
# A frame is active when it is above this absolute level and within RANGE_DB of the clip's loudest frame.
FLOOR_DBFS = -50.0
RANGE_DB = 40.0


# Frames per block: the energies are computed a block at a time, so a long clip costs one float per frame, not a
# float64 copy of its samples (the decode's memory bound holds with this step too).
BLOCK_FRAMES = 4096


def speech_seconds(samples: np.ndarray, rate: int) -> float:
    """Seconds of active frames in float mono `samples` at `rate` Hz."""
    frame = max(1, int(rate * FRAME_SECONDS))
    count = samples.size // frame
    if count == 0:
        return 0.0
    level = np.empty(count)
    for first in range(0, count, BLOCK_FRAMES):
        last = min(count, first + BLOCK_FRAMES)
        block = samples[first * frame : last * frame].reshape(last - first, frame)
        level[first:last] = np.einsum("ij,ij->i", block, block, dtype=np.float64) / frame
    level = 10 * np.log10(level + 1e-12)
    active = (level > FLOOR_DBFS) & (level > level.max() - RANGE_DB)
    return round(float(np.count_nonzero(active)) * frame / rate, 3)
