"""Net speech of a clip by frame energy: the speaker RPCs refuse enrollments with too little of it and flag short
test audio. An energy detector, not a speech classifier: any loud sound counts (see docs/speakers.md)."""

import numpy as np

FRAME_SECONDS = 0.03
# A frame is active when it is above this absolute level and within RANGE_DB of the clip's loudest frame.
FLOOR_DBFS = -50.0
RANGE_DB = 40.0


def speech_seconds(samples: np.ndarray, rate: int) -> float:
    """Seconds of active frames in float mono `samples` at `rate` Hz."""
    frame = max(1, int(rate * FRAME_SECONDS))
    count = samples.size // frame
    if count == 0:
        return 0.0
    frames = samples[: count * frame].reshape(count, frame).astype(np.float64)
    level = 10 * np.log10(np.mean(frames * frames, axis=1) + 1e-12)
    active = (level > FLOOR_DBFS) & (level > level.max() - RANGE_DB)
    return round(float(np.count_nonzero(active)) * frame / rate, 3)
