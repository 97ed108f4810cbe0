from audiosearch.type.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_UNSPECIFIED: _ClassVar[Decision]
    DECISION_MATCH: _ClassVar[Decision]
    DECISION_NO_MATCH: _ClassVar[Decision]
DECISION_UNSPECIFIED: Decision
DECISION_MATCH: Decision
DECISION_NO_MATCH: Decision

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[_types_pb2.ModelInfo]
    def __init__(self, models: _Optional[_Iterable[_Union[_types_pb2.ModelInfo, _Mapping]]] = ...) -> None: ...

class CreateCollectionRequest(_message.Message):
    __slots__ = ("name", "model", "segments", "index_type", "purpose", "keep_audio")
    class Purpose(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        PURPOSE_UNSPECIFIED: _ClassVar[CreateCollectionRequest.Purpose]
        PURPOSE_SPEAKERS: _ClassVar[CreateCollectionRequest.Purpose]
        PURPOSE_SOUND_EVENTS: _ClassVar[CreateCollectionRequest.Purpose]
        PURPOSE_RECORDINGS: _ClassVar[CreateCollectionRequest.Purpose]
    PURPOSE_UNSPECIFIED: CreateCollectionRequest.Purpose
    PURPOSE_SPEAKERS: CreateCollectionRequest.Purpose
    PURPOSE_SOUND_EVENTS: CreateCollectionRequest.Purpose
    PURPOSE_RECORDINGS: CreateCollectionRequest.Purpose
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    INDEX_TYPE_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    KEEP_AUDIO_FIELD_NUMBER: _ClassVar[int]
    name: str
    model: str
    segments: _types_pb2.SegmentOptions
    index_type: _types_pb2.IndexType
    purpose: CreateCollectionRequest.Purpose
    keep_audio: bool
    def __init__(self, name: _Optional[str] = ..., model: _Optional[str] = ..., segments: _Optional[_Union[_types_pb2.SegmentOptions, _Mapping]] = ..., index_type: _Optional[_Union[_types_pb2.IndexType, str]] = ..., purpose: _Optional[_Union[CreateCollectionRequest.Purpose, str]] = ..., keep_audio: _Optional[bool] = ...) -> None: ...

class ListCollectionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCollectionsResponse(_message.Message):
    __slots__ = ("collections", "next_page_token")
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    collections: _containers.RepeatedCompositeFieldContainer[_types_pb2.Collection]
    next_page_token: str
    def __init__(self, collections: _Optional[_Iterable[_Union[_types_pb2.Collection, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DropCollectionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DropCollectionResponse(_message.Message):
    __slots__ = ("deleted_clips",)
    DELETED_CLIPS_FIELD_NUMBER: _ClassVar[int]
    deleted_clips: int
    def __init__(self, deleted_clips: _Optional[int] = ...) -> None: ...

class IngestOptions(_message.Message):
    __slots__ = ("collection", "source", "labels", "request_id")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    collection: str
    source: str
    labels: _types_pb2.Labels
    request_id: str
    def __init__(self, collection: _Optional[str] = ..., source: _Optional[str] = ..., labels: _Optional[_Union[_types_pb2.Labels, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class IngestAudioRequest(_message.Message):
    __slots__ = ("options", "chunk")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    options: IngestOptions
    chunk: bytes
    def __init__(self, options: _Optional[_Union[IngestOptions, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class IngestAudioResponse(_message.Message):
    __slots__ = ("clip", "duplicate")
    CLIP_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    clip: _types_pb2.Clip
    duplicate: bool
    def __init__(self, clip: _Optional[_Union[_types_pb2.Clip, _Mapping]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class ImportDirectoryRequest(_message.Message):
    __slots__ = ("collection", "path", "recursive", "labels", "label_from_parent")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    RECURSIVE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FROM_PARENT_FIELD_NUMBER: _ClassVar[int]
    collection: str
    path: str
    recursive: bool
    labels: _types_pb2.Labels
    label_from_parent: bool
    def __init__(self, collection: _Optional[str] = ..., path: _Optional[str] = ..., recursive: _Optional[bool] = ..., labels: _Optional[_Union[_types_pb2.Labels, _Mapping]] = ..., label_from_parent: _Optional[bool] = ...) -> None: ...

class ImportDirectoryProgress(_message.Message):
    __slots__ = ("path", "outcome", "clip", "error", "done", "total")
    class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OUTCOME_UNSPECIFIED: _ClassVar[ImportDirectoryProgress.Outcome]
        OUTCOME_ADDED: _ClassVar[ImportDirectoryProgress.Outcome]
        OUTCOME_DUPLICATE: _ClassVar[ImportDirectoryProgress.Outcome]
        OUTCOME_FAILED: _ClassVar[ImportDirectoryProgress.Outcome]
    OUTCOME_UNSPECIFIED: ImportDirectoryProgress.Outcome
    OUTCOME_ADDED: ImportDirectoryProgress.Outcome
    OUTCOME_DUPLICATE: ImportDirectoryProgress.Outcome
    OUTCOME_FAILED: ImportDirectoryProgress.Outcome
    PATH_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CLIP_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    path: str
    outcome: ImportDirectoryProgress.Outcome
    clip: _types_pb2.Clip
    error: str
    done: int
    total: int
    def __init__(self, path: _Optional[str] = ..., outcome: _Optional[_Union[ImportDirectoryProgress.Outcome, str]] = ..., clip: _Optional[_Union[_types_pb2.Clip, _Mapping]] = ..., error: _Optional[str] = ..., done: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...

class SearchAudioRequest(_message.Message):
    __slots__ = ("collection", "audio", "clip_id", "vector", "top_k", "min_score", "filter", "search_breadth")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    CLIP_ID_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    SEARCH_BREADTH_FIELD_NUMBER: _ClassVar[int]
    collection: str
    audio: bytes
    clip_id: int
    vector: VectorQuery
    top_k: int
    min_score: float
    filter: _types_pb2.SearchFilter
    search_breadth: int
    def __init__(self, collection: _Optional[str] = ..., audio: _Optional[bytes] = ..., clip_id: _Optional[int] = ..., vector: _Optional[_Union[VectorQuery, _Mapping]] = ..., top_k: _Optional[int] = ..., min_score: _Optional[float] = ..., filter: _Optional[_Union[_types_pb2.SearchFilter, _Mapping]] = ..., search_breadth: _Optional[int] = ...) -> None: ...

class VectorQuery(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class SearchHit(_message.Message):
    __slots__ = ("clip", "score", "start_seconds", "end_seconds", "alignment", "decision")
    CLIP_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    START_SECONDS_FIELD_NUMBER: _ClassVar[int]
    END_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ALIGNMENT_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    clip: _types_pb2.Clip
    score: float
    start_seconds: float
    end_seconds: float
    alignment: Alignment
    decision: Decision
    def __init__(self, clip: _Optional[_Union[_types_pb2.Clip, _Mapping]] = ..., score: _Optional[float] = ..., start_seconds: _Optional[float] = ..., end_seconds: _Optional[float] = ..., alignment: _Optional[_Union[Alignment, _Mapping]] = ..., decision: _Optional[_Union[Decision, str]] = ...) -> None: ...

class Alignment(_message.Message):
    __slots__ = ("query_start_seconds", "query_end_seconds", "clip_start_seconds", "clip_end_seconds", "offset_seconds", "agreeing_windows", "query_windows")
    QUERY_START_SECONDS_FIELD_NUMBER: _ClassVar[int]
    QUERY_END_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CLIP_START_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CLIP_END_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OFFSET_SECONDS_FIELD_NUMBER: _ClassVar[int]
    AGREEING_WINDOWS_FIELD_NUMBER: _ClassVar[int]
    QUERY_WINDOWS_FIELD_NUMBER: _ClassVar[int]
    query_start_seconds: float
    query_end_seconds: float
    clip_start_seconds: float
    clip_end_seconds: float
    offset_seconds: float
    agreeing_windows: int
    query_windows: int
    def __init__(self, query_start_seconds: _Optional[float] = ..., query_end_seconds: _Optional[float] = ..., clip_start_seconds: _Optional[float] = ..., clip_end_seconds: _Optional[float] = ..., offset_seconds: _Optional[float] = ..., agreeing_windows: _Optional[int] = ..., query_windows: _Optional[int] = ...) -> None: ...

class MatchThreshold(_message.Message):
    __slots__ = ("score", "source", "false_positive_rate")
    class Source(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SOURCE_UNSPECIFIED: _ClassVar[MatchThreshold.Source]
        SOURCE_DEFAULT: _ClassVar[MatchThreshold.Source]
        SOURCE_CALIBRATED: _ClassVar[MatchThreshold.Source]
    SOURCE_UNSPECIFIED: MatchThreshold.Source
    SOURCE_DEFAULT: MatchThreshold.Source
    SOURCE_CALIBRATED: MatchThreshold.Source
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    FALSE_POSITIVE_RATE_FIELD_NUMBER: _ClassVar[int]
    score: float
    source: MatchThreshold.Source
    false_positive_rate: float
    def __init__(self, score: _Optional[float] = ..., source: _Optional[_Union[MatchThreshold.Source, str]] = ..., false_positive_rate: _Optional[float] = ...) -> None: ...

class SearchAudioResponse(_message.Message):
    __slots__ = ("hits", "model", "threshold")
    HITS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[SearchHit]
    model: str
    threshold: MatchThreshold
    def __init__(self, hits: _Optional[_Iterable[_Union[SearchHit, _Mapping]]] = ..., model: _Optional[str] = ..., threshold: _Optional[_Union[MatchThreshold, _Mapping]] = ...) -> None: ...

class CalibrateRecordingsRequest(_message.Message):
    __slots__ = ("collection", "target_false_positive_rate", "snippet_seconds")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_FALSE_POSITIVE_RATE_FIELD_NUMBER: _ClassVar[int]
    SNIPPET_SECONDS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    target_false_positive_rate: float
    snippet_seconds: float
    def __init__(self, collection: _Optional[str] = ..., target_false_positive_rate: _Optional[float] = ..., snippet_seconds: _Optional[float] = ...) -> None: ...

class CalibrateRecordingsResponse(_message.Message):
    __slots__ = ("calibration",)
    CALIBRATION_FIELD_NUMBER: _ClassVar[int]
    calibration: _types_pb2.Calibration
    def __init__(self, calibration: _Optional[_Union[_types_pb2.Calibration, _Mapping]] = ...) -> None: ...

class GetClipRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class ListClipsRequest(_message.Message):
    __slots__ = ("collection", "page_size", "page_token", "filter")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    collection: str
    page_size: int
    page_token: str
    filter: _types_pb2.SearchFilter
    def __init__(self, collection: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[_Union[_types_pb2.SearchFilter, _Mapping]] = ...) -> None: ...

class ListClipsResponse(_message.Message):
    __slots__ = ("clips", "next_page_token")
    CLIPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    clips: _containers.RepeatedCompositeFieldContainer[_types_pb2.Clip]
    next_page_token: str
    def __init__(self, clips: _Optional[_Iterable[_Union[_types_pb2.Clip, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteClipRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class DeleteClipResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    def __init__(self, deleted: _Optional[bool] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CollectionStats(_message.Message):
    __slots__ = ("name", "model", "ready_clips", "pending_clips", "failed_clips", "vectors", "problem")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    READY_CLIPS_FIELD_NUMBER: _ClassVar[int]
    PENDING_CLIPS_FIELD_NUMBER: _ClassVar[int]
    FAILED_CLIPS_FIELD_NUMBER: _ClassVar[int]
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    name: str
    model: str
    ready_clips: int
    pending_clips: int
    failed_clips: int
    vectors: int
    problem: str
    def __init__(self, name: _Optional[str] = ..., model: _Optional[str] = ..., ready_clips: _Optional[int] = ..., pending_clips: _Optional[int] = ..., failed_clips: _Optional[int] = ..., vectors: _Optional[int] = ..., problem: _Optional[str] = ...) -> None: ...

class GetStatsResponse(_message.Message):
    __slots__ = ("collections",)
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    collections: _containers.RepeatedCompositeFieldContainer[CollectionStats]
    def __init__(self, collections: _Optional[_Iterable[_Union[CollectionStats, _Mapping]]] = ...) -> None: ...

class ReconcileRequest(_message.Message):
    __slots__ = ("collection", "min_age_seconds", "dry_run")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    MIN_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    collection: str
    min_age_seconds: float
    dry_run: bool
    def __init__(self, collection: _Optional[str] = ..., min_age_seconds: _Optional[float] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class CollectionReconcile(_message.Message):
    __slots__ = ("name", "pending_rolled_back", "deleting_finished", "failed_removed", "orphan_vectors_removed", "ready_without_vectors", "vectors_recreated", "vectors_restored")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PENDING_ROLLED_BACK_FIELD_NUMBER: _ClassVar[int]
    DELETING_FINISHED_FIELD_NUMBER: _ClassVar[int]
    FAILED_REMOVED_FIELD_NUMBER: _ClassVar[int]
    ORPHAN_VECTORS_REMOVED_FIELD_NUMBER: _ClassVar[int]
    READY_WITHOUT_VECTORS_FIELD_NUMBER: _ClassVar[int]
    VECTORS_RECREATED_FIELD_NUMBER: _ClassVar[int]
    VECTORS_RESTORED_FIELD_NUMBER: _ClassVar[int]
    name: str
    pending_rolled_back: int
    deleting_finished: int
    failed_removed: int
    orphan_vectors_removed: int
    ready_without_vectors: _containers.RepeatedScalarFieldContainer[int]
    vectors_recreated: bool
    vectors_restored: int
    def __init__(self, name: _Optional[str] = ..., pending_rolled_back: _Optional[int] = ..., deleting_finished: _Optional[int] = ..., failed_removed: _Optional[int] = ..., orphan_vectors_removed: _Optional[int] = ..., ready_without_vectors: _Optional[_Iterable[int]] = ..., vectors_recreated: _Optional[bool] = ..., vectors_restored: _Optional[int] = ...) -> None: ...

class ReconcileResponse(_message.Message):
    __slots__ = ("collections", "orphan_audio_removed")
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    ORPHAN_AUDIO_REMOVED_FIELD_NUMBER: _ClassVar[int]
    collections: _containers.RepeatedCompositeFieldContainer[CollectionReconcile]
    orphan_audio_removed: int
    def __init__(self, collections: _Optional[_Iterable[_Union[CollectionReconcile, _Mapping]]] = ..., orphan_audio_removed: _Optional[int] = ...) -> None: ...

class GetClipAudioRequest(_message.Message):
    __slots__ = ("collection", "clip_id", "start_seconds", "end_seconds")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CLIP_ID_FIELD_NUMBER: _ClassVar[int]
    START_SECONDS_FIELD_NUMBER: _ClassVar[int]
    END_SECONDS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    clip_id: int
    start_seconds: float
    end_seconds: float
    def __init__(self, collection: _Optional[str] = ..., clip_id: _Optional[int] = ..., start_seconds: _Optional[float] = ..., end_seconds: _Optional[float] = ...) -> None: ...

class GetClipAudioResponse(_message.Message):
    __slots__ = ("blob", "chunk")
    BLOB_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    blob: _types_pb2.AudioBlob
    chunk: bytes
    def __init__(self, blob: _Optional[_Union[_types_pb2.AudioBlob, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...
