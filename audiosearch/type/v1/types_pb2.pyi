import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClipState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLIP_STATE_UNSPECIFIED: _ClassVar[ClipState]
    CLIP_STATE_PENDING: _ClassVar[ClipState]
    CLIP_STATE_READY: _ClassVar[ClipState]
    CLIP_STATE_FAILED: _ClassVar[ClipState]
    CLIP_STATE_DELETING: _ClassVar[ClipState]

class Metric(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_UNSPECIFIED: _ClassVar[Metric]
    METRIC_COSINE: _ClassVar[Metric]
    METRIC_IP: _ClassVar[Metric]
    METRIC_L2: _ClassVar[Metric]

class IndexType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INDEX_TYPE_UNSPECIFIED: _ClassVar[IndexType]
    INDEX_TYPE_HNSW: _ClassVar[IndexType]
    INDEX_TYPE_IVF_FLAT: _ClassVar[IndexType]
    INDEX_TYPE_IVF_SQ8: _ClassVar[IndexType]
    INDEX_TYPE_FLAT: _ClassVar[IndexType]

class Purpose(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PURPOSE_UNSPECIFIED: _ClassVar[Purpose]
    PURPOSE_SPEAKERS: _ClassVar[Purpose]
    PURPOSE_SOUND_EVENTS: _ClassVar[Purpose]
    PURPOSE_RECORDINGS: _ClassVar[Purpose]
CLIP_STATE_UNSPECIFIED: ClipState
CLIP_STATE_PENDING: ClipState
CLIP_STATE_READY: ClipState
CLIP_STATE_FAILED: ClipState
CLIP_STATE_DELETING: ClipState
METRIC_UNSPECIFIED: Metric
METRIC_COSINE: Metric
METRIC_IP: Metric
METRIC_L2: Metric
INDEX_TYPE_UNSPECIFIED: IndexType
INDEX_TYPE_HNSW: IndexType
INDEX_TYPE_IVF_FLAT: IndexType
INDEX_TYPE_IVF_SQ8: IndexType
INDEX_TYPE_FLAT: IndexType
PURPOSE_UNSPECIFIED: Purpose
PURPOSE_SPEAKERS: Purpose
PURPOSE_SOUND_EVENTS: Purpose
PURPOSE_RECORDINGS: Purpose

class Labels(_message.Message):
    __slots__ = ("speaker", "sound_class", "tags")
    SPEAKER_FIELD_NUMBER: _ClassVar[int]
    SOUND_CLASS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    speaker: str
    sound_class: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, speaker: _Optional[str] = ..., sound_class: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class AudioInfo(_message.Message):
    __slots__ = ("duration_seconds", "sample_rate", "channels", "format", "speech_seconds")
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SPEECH_SECONDS_FIELD_NUMBER: _ClassVar[int]
    duration_seconds: float
    sample_rate: int
    channels: int
    format: str
    speech_seconds: float
    def __init__(self, duration_seconds: _Optional[float] = ..., sample_rate: _Optional[int] = ..., channels: _Optional[int] = ..., format: _Optional[str] = ..., speech_seconds: _Optional[float] = ...) -> None: ...

class Clip(_message.Message):
    __slots__ = ("id", "collection", "content_sha256", "source", "audio", "labels", "state", "create_time", "update_time", "segment_count", "audio_kept")
    ID_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    AUDIO_KEPT_FIELD_NUMBER: _ClassVar[int]
    id: int
    collection: str
    content_sha256: str
    source: str
    audio: AudioInfo
    labels: Labels
    state: ClipState
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    segment_count: int
    audio_kept: bool
    def __init__(self, id: _Optional[int] = ..., collection: _Optional[str] = ..., content_sha256: _Optional[str] = ..., source: _Optional[str] = ..., audio: _Optional[_Union[AudioInfo, _Mapping]] = ..., labels: _Optional[_Union[Labels, _Mapping]] = ..., state: _Optional[_Union[ClipState, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., segment_count: _Optional[int] = ..., audio_kept: _Optional[bool] = ...) -> None: ...

class Collection(_message.Message):
    __slots__ = ("name", "model", "dimension", "metric", "segments", "create_time", "purpose", "calibration", "keep_audio")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_FIELD_NUMBER: _ClassVar[int]
    KEEP_AUDIO_FIELD_NUMBER: _ClassVar[int]
    name: str
    model: str
    dimension: int
    metric: Metric
    segments: SegmentOptions
    create_time: _timestamp_pb2.Timestamp
    purpose: Purpose
    calibration: Calibration
    keep_audio: bool
    def __init__(self, name: _Optional[str] = ..., model: _Optional[str] = ..., dimension: _Optional[int] = ..., metric: _Optional[_Union[Metric, str]] = ..., segments: _Optional[_Union[SegmentOptions, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., purpose: _Optional[_Union[Purpose, str]] = ..., calibration: _Optional[_Union[Calibration, _Mapping]] = ..., keep_audio: _Optional[bool] = ...) -> None: ...

class Calibration(_message.Message):
    __slots__ = ("threshold", "target_false_positive_rate", "false_positive_rate", "false_negative_rate", "equal_error_rate", "equal_error_threshold", "positive_trials", "negative_trials", "scoring", "calibrate_time", "open_set_threshold", "open_set_false_positive_rate", "open_set_trials")
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    TARGET_FALSE_POSITIVE_RATE_FIELD_NUMBER: _ClassVar[int]
    FALSE_POSITIVE_RATE_FIELD_NUMBER: _ClassVar[int]
    FALSE_NEGATIVE_RATE_FIELD_NUMBER: _ClassVar[int]
    EQUAL_ERROR_RATE_FIELD_NUMBER: _ClassVar[int]
    EQUAL_ERROR_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    POSITIVE_TRIALS_FIELD_NUMBER: _ClassVar[int]
    NEGATIVE_TRIALS_FIELD_NUMBER: _ClassVar[int]
    SCORING_FIELD_NUMBER: _ClassVar[int]
    CALIBRATE_TIME_FIELD_NUMBER: _ClassVar[int]
    OPEN_SET_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    OPEN_SET_FALSE_POSITIVE_RATE_FIELD_NUMBER: _ClassVar[int]
    OPEN_SET_TRIALS_FIELD_NUMBER: _ClassVar[int]
    threshold: float
    target_false_positive_rate: float
    false_positive_rate: float
    false_negative_rate: float
    equal_error_rate: float
    equal_error_threshold: float
    positive_trials: int
    negative_trials: int
    scoring: str
    calibrate_time: _timestamp_pb2.Timestamp
    open_set_threshold: float
    open_set_false_positive_rate: float
    open_set_trials: int
    def __init__(self, threshold: _Optional[float] = ..., target_false_positive_rate: _Optional[float] = ..., false_positive_rate: _Optional[float] = ..., false_negative_rate: _Optional[float] = ..., equal_error_rate: _Optional[float] = ..., equal_error_threshold: _Optional[float] = ..., positive_trials: _Optional[int] = ..., negative_trials: _Optional[int] = ..., scoring: _Optional[str] = ..., calibrate_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., open_set_threshold: _Optional[float] = ..., open_set_false_positive_rate: _Optional[float] = ..., open_set_trials: _Optional[int] = ...) -> None: ...

class SegmentOptions(_message.Message):
    __slots__ = ("window_seconds", "hop_seconds")
    WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    HOP_SECONDS_FIELD_NUMBER: _ClassVar[int]
    window_seconds: float
    hop_seconds: float
    def __init__(self, window_seconds: _Optional[float] = ..., hop_seconds: _Optional[float] = ...) -> None: ...

class SearchFilter(_message.Message):
    __slots__ = ("speakers", "sound_classes", "tags_any", "min_duration_seconds", "max_duration_seconds")
    SPEAKERS_FIELD_NUMBER: _ClassVar[int]
    SOUND_CLASSES_FIELD_NUMBER: _ClassVar[int]
    TAGS_ANY_FIELD_NUMBER: _ClassVar[int]
    MIN_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    speakers: _containers.RepeatedScalarFieldContainer[str]
    sound_classes: _containers.RepeatedScalarFieldContainer[str]
    tags_any: _containers.RepeatedScalarFieldContainer[str]
    min_duration_seconds: float
    max_duration_seconds: float
    def __init__(self, speakers: _Optional[_Iterable[str]] = ..., sound_classes: _Optional[_Iterable[str]] = ..., tags_any: _Optional[_Iterable[str]] = ..., min_duration_seconds: _Optional[float] = ..., max_duration_seconds: _Optional[float] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("name", "dimension", "sample_rate", "metric", "min_duration_seconds", "available", "unavailable_reason", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    MIN_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_REASON_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    dimension: int
    sample_rate: int
    metric: Metric
    min_duration_seconds: float
    available: bool
    unavailable_reason: str
    description: str
    def __init__(self, name: _Optional[str] = ..., dimension: _Optional[int] = ..., sample_rate: _Optional[int] = ..., metric: _Optional[_Union[Metric, str]] = ..., min_duration_seconds: _Optional[float] = ..., available: _Optional[bool] = ..., unavailable_reason: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class AudioBlob(_message.Message):
    __slots__ = ("sha256", "size_bytes", "format", "content_type", "start_seconds", "end_seconds")
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    START_SECONDS_FIELD_NUMBER: _ClassVar[int]
    END_SECONDS_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    size_bytes: int
    format: str
    content_type: str
    start_seconds: float
    end_seconds: float
    def __init__(self, sha256: _Optional[str] = ..., size_bytes: _Optional[int] = ..., format: _Optional[str] = ..., content_type: _Optional[str] = ..., start_seconds: _Optional[float] = ..., end_seconds: _Optional[float] = ...) -> None: ...
