import datetime

from audiosearch.type.v1 import types_pb2 as _types_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ImportJobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMPORT_JOB_STATE_UNSPECIFIED: _ClassVar[ImportJobState]
    IMPORT_JOB_STATE_QUEUED: _ClassVar[ImportJobState]
    IMPORT_JOB_STATE_RUNNING: _ClassVar[ImportJobState]
    IMPORT_JOB_STATE_CANCELLING: _ClassVar[ImportJobState]
    IMPORT_JOB_STATE_SUCCEEDED: _ClassVar[ImportJobState]
    IMPORT_JOB_STATE_FAILED: _ClassVar[ImportJobState]
    IMPORT_JOB_STATE_CANCELLED: _ClassVar[ImportJobState]

class ImportFileOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMPORT_FILE_OUTCOME_UNSPECIFIED: _ClassVar[ImportFileOutcome]
    IMPORT_FILE_OUTCOME_ADDED: _ClassVar[ImportFileOutcome]
    IMPORT_FILE_OUTCOME_DUPLICATE: _ClassVar[ImportFileOutcome]
    IMPORT_FILE_OUTCOME_FAILED: _ClassVar[ImportFileOutcome]
IMPORT_JOB_STATE_UNSPECIFIED: ImportJobState
IMPORT_JOB_STATE_QUEUED: ImportJobState
IMPORT_JOB_STATE_RUNNING: ImportJobState
IMPORT_JOB_STATE_CANCELLING: ImportJobState
IMPORT_JOB_STATE_SUCCEEDED: ImportJobState
IMPORT_JOB_STATE_FAILED: ImportJobState
IMPORT_JOB_STATE_CANCELLED: ImportJobState
IMPORT_FILE_OUTCOME_UNSPECIFIED: ImportFileOutcome
IMPORT_FILE_OUTCOME_ADDED: ImportFileOutcome
IMPORT_FILE_OUTCOME_DUPLICATE: ImportFileOutcome
IMPORT_FILE_OUTCOME_FAILED: ImportFileOutcome

class ImportJob(_message.Message):
    __slots__ = ("id", "collection", "path", "rebuild", "recursive", "labels", "label_from_parent", "state", "files_found", "listing_done", "files_done", "files_added", "files_duplicate", "files_failed", "files_per_second", "eta_seconds", "error", "holder", "lease_expire_time", "create_time", "update_time", "start_time", "end_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    REBUILD_FIELD_NUMBER: _ClassVar[int]
    RECURSIVE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FROM_PARENT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FILES_FOUND_FIELD_NUMBER: _ClassVar[int]
    LISTING_DONE_FIELD_NUMBER: _ClassVar[int]
    FILES_DONE_FIELD_NUMBER: _ClassVar[int]
    FILES_ADDED_FIELD_NUMBER: _ClassVar[int]
    FILES_DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    FILES_FAILED_FIELD_NUMBER: _ClassVar[int]
    FILES_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    ETA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    id: int
    collection: str
    path: str
    rebuild: CollectionRebuild
    recursive: bool
    labels: _types_pb2.Labels
    label_from_parent: bool
    state: ImportJobState
    files_found: int
    listing_done: bool
    files_done: int
    files_added: int
    files_duplicate: int
    files_failed: int
    files_per_second: float
    eta_seconds: float
    error: str
    holder: str
    lease_expire_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., collection: _Optional[str] = ..., path: _Optional[str] = ..., rebuild: _Optional[_Union[CollectionRebuild, _Mapping]] = ..., recursive: _Optional[bool] = ..., labels: _Optional[_Union[_types_pb2.Labels, _Mapping]] = ..., label_from_parent: _Optional[bool] = ..., state: _Optional[_Union[ImportJobState, str]] = ..., files_found: _Optional[int] = ..., listing_done: _Optional[bool] = ..., files_done: _Optional[int] = ..., files_added: _Optional[int] = ..., files_duplicate: _Optional[int] = ..., files_failed: _Optional[int] = ..., files_per_second: _Optional[float] = ..., eta_seconds: _Optional[float] = ..., error: _Optional[str] = ..., holder: _Optional[str] = ..., lease_expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CollectionRebuild(_message.Message):
    __slots__ = ("model", "segments", "dimension", "metric", "vector_collection")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    VECTOR_COLLECTION_FIELD_NUMBER: _ClassVar[int]
    model: str
    segments: _types_pb2.SegmentOptions
    dimension: int
    metric: _types_pb2.Metric
    vector_collection: str
    def __init__(self, model: _Optional[str] = ..., segments: _Optional[_Union[_types_pb2.SegmentOptions, _Mapping]] = ..., dimension: _Optional[int] = ..., metric: _Optional[_Union[_types_pb2.Metric, str]] = ..., vector_collection: _Optional[str] = ...) -> None: ...

class ImportJobFile(_message.Message):
    __slots__ = ("ordinal", "path", "outcome", "clip_id", "error")
    ORDINAL_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CLIP_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ordinal: int
    path: str
    outcome: ImportFileOutcome
    clip_id: int
    error: str
    def __init__(self, ordinal: _Optional[int] = ..., path: _Optional[str] = ..., outcome: _Optional[_Union[ImportFileOutcome, str]] = ..., clip_id: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...
