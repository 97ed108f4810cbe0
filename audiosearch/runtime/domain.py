"""Domain types shared by the services and the gateway (plain data; no gRPC, no storage)."""

import dataclasses
import enum
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:  # numpy is the search service's, not the gateway's: only the type is named here
    import numpy as np
    import numpy.typing as npt

# A vector as it travels: a proto's repeated field, a list, or (once checked by the search core) a float32 array.
# Each hop passes it on as it is; only the search core makes a copy (see SearchCore.upsert).
Vector: TypeAlias = "Sequence[float] | npt.NDArray[np.float32]"


class ClipState(enum.Enum):
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"
    DELETING = "DELETING"


@dataclasses.dataclass(frozen=True)
class Labels:
    speaker: str = ""
    sound_class: str = ""
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class AudioInfo:
    duration_seconds: float = 0.0
    sample_rate: int = 0
    channels: int = 0
    format: str = ""
    speech_seconds: float = 0.0


@dataclasses.dataclass(frozen=True)
class SegmentOptions:
    window_seconds: float = 0.0
    hop_seconds: float = 0.0

    @property
    def enabled(self) -> bool:
        return self.window_seconds > 0


@dataclasses.dataclass(frozen=True)
class Clip:
    id: int
    collection: str
    content_sha256: str
    source: str = ""
    audio: AudioInfo = AudioInfo()
    labels: Labels = Labels()
    state: ClipState = ClipState.PENDING
    create_time: datetime | None = None
    update_time: datetime | None = None
    segment_count: int = 0
    # The uploaded bytes are kept by the metadata service (docs/kept-audio.md).
    audio_kept: bool = False


# What players are told a kept clip is, by the format its decoder found.
AUDIO_CONTENT_TYPES = {"wav": "audio/wav", "flac": "audio/flac", "ogg": "audio/ogg", "mp3": "audio/mpeg"}


@dataclasses.dataclass(frozen=True)
class AudioBlob:
    """The facts of a clip's kept audio, or of a time range of it, that precede its bytes in a stream."""

    sha256: str
    size_bytes: int
    format: str
    start_seconds: float = 0.0
    end_seconds: float = 0.0

    @property
    def content_type(self) -> str:
        return AUDIO_CONTENT_TYPES.get(self.format.lower(), "application/octet-stream")


@dataclasses.dataclass(frozen=True)
class Calibration:
    """A threshold measured on a collection's own positive (should match) and negative trials; generic: speakers
    (ACCEPT/REJECT) and recordings (MATCH/NO_MATCH) alike."""

    threshold: float
    target_false_positive_rate: float
    false_positive_rate: float
    false_negative_rate: float
    equal_error_rate: float
    equal_error_threshold: float
    positive_trials: int
    negative_trials: int
    scoring: str
    calibrate_time: datetime | None = None
    # 1:N decisions: the best candidate's threshold, measured on queries from outside the collection.
    open_set_threshold: float = 0.0
    open_set_false_positive_rate: float = 0.0
    open_set_trials: int = 0


@dataclasses.dataclass(frozen=True)
class Collection:
    name: str
    model: str
    dimension: int
    metric: str = "COSINE"
    segments: SegmentOptions = SegmentOptions()
    create_time: datetime | None = None
    # SPEAKERS, SOUND_EVENTS, RECORDINGS, or '' (created with a model only).
    purpose: str = ""
    calibration: Calibration | None = None
    # Its clips' uploaded bytes are kept (chosen at creation; docs/kept-audio.md).
    keep_audio: bool = False


@dataclasses.dataclass(frozen=True)
class SearchFilter:
    """Every set field must match; values are data, never expression syntax."""

    speakers: tuple[str, ...] = ()
    sound_classes: tuple[str, ...] = ()
    tags_any: tuple[str, ...] = ()
    min_duration_seconds: float = 0.0
    max_duration_seconds: float = 0.0


@dataclasses.dataclass(frozen=True)
class Segment:
    """One vector of a clip and the time range it covers."""

    vector: Vector
    start_seconds: float = 0.0
    end_seconds: float = 0.0


@dataclasses.dataclass(frozen=True)
class ClipVectors:
    """Every segment vector of one clip, with the labels and duration searches filter by (what the gateway writes to
    the search service)."""

    clip_id: int
    labels: Labels
    duration_seconds: float
    segments: Sequence[Segment]


@dataclasses.dataclass(frozen=True)
class Hit:
    clip_id: int
    score: float
    start_seconds: float = 0.0
    end_seconds: float = 0.0


@dataclasses.dataclass(frozen=True)
class SpeakerRow:
    """A speaker of a speakers collection as the vector store keeps it: its enrollment centroid, and the mean and
    standard deviation of its scores against its cohort (docs/speakers.md)."""

    speaker_id: str
    vector: Vector
    cohort_mean: float
    cohort_std: float


@dataclasses.dataclass(frozen=True)
class SpeakerHit:
    speaker_id: str
    score: float
    cohort_mean: float
    cohort_std: float


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    name: str
    dimension: int
    sample_rate: int
    metric: str = "COSINE"
    min_duration_seconds: float = 0.0
    available: bool = True
    unavailable_reason: str = ""
    description: str = ""


@dataclasses.dataclass(frozen=True)
class SearchHit:
    """A search result as users see it: the clip with its score and best-matching time range."""

    clip: Clip
    score: float
    start_seconds: float = 0.0
    end_seconds: float = 0.0
    # Recordings searches only: where the query matches the clip, and MATCH or NO_MATCH.
    alignment: "Alignment | None" = None
    decision: str = ""


@dataclasses.dataclass(frozen=True)
class Alignment:
    """Where a query matches a clip: clip time = query time + offset_seconds, voted over the query's windows."""

    query_start_seconds: float
    query_end_seconds: float
    clip_start_seconds: float
    clip_end_seconds: float
    offset_seconds: float
    agreeing_windows: int
    query_windows: int


@dataclasses.dataclass(frozen=True)
class MatchThreshold:
    """The score a recordings hit needs for MATCH; source is DEFAULT (the model's) or CALIBRATED (the collection's)."""

    score: float
    source: str
    false_positive_rate: float
