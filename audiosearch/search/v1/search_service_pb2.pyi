from audiosearch.type.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EnsureCollectionRequest(_message.Message):
    __slots__ = ("collection", "dimension", "metric", "index_type")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    INDEX_TYPE_FIELD_NUMBER: _ClassVar[int]
    collection: str
    dimension: int
    metric: _types_pb2.Metric
    index_type: _types_pb2.IndexType
    def __init__(self, collection: _Optional[str] = ..., dimension: _Optional[int] = ..., metric: _Optional[_Union[_types_pb2.Metric, str]] = ..., index_type: _Optional[_Union[_types_pb2.IndexType, str]] = ...) -> None: ...

class EnsureCollectionResponse(_message.Message):
    __slots__ = ("created",)
    CREATED_FIELD_NUMBER: _ClassVar[int]
    created: bool
    def __init__(self, created: _Optional[bool] = ...) -> None: ...

class DropCollectionRequest(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class DropCollectionResponse(_message.Message):
    __slots__ = ("dropped",)
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    dropped: bool
    def __init__(self, dropped: _Optional[bool] = ...) -> None: ...

class Vector(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class ClipVectors(_message.Message):
    __slots__ = ("clip_id", "labels", "duration_seconds", "segments")
    CLIP_ID_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    clip_id: int
    labels: _types_pb2.Labels
    duration_seconds: float
    segments: _containers.RepeatedCompositeFieldContainer[Segment]
    def __init__(self, clip_id: _Optional[int] = ..., labels: _Optional[_Union[_types_pb2.Labels, _Mapping]] = ..., duration_seconds: _Optional[float] = ..., segments: _Optional[_Iterable[_Union[Segment, _Mapping]]] = ...) -> None: ...

class Segment(_message.Message):
    __slots__ = ("vector", "start_seconds", "end_seconds")
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    START_SECONDS_FIELD_NUMBER: _ClassVar[int]
    END_SECONDS_FIELD_NUMBER: _ClassVar[int]
    vector: Vector
    start_seconds: float
    end_seconds: float
    def __init__(self, vector: _Optional[_Union[Vector, _Mapping]] = ..., start_seconds: _Optional[float] = ..., end_seconds: _Optional[float] = ...) -> None: ...

class UpsertRequest(_message.Message):
    __slots__ = ("collection", "clips")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CLIPS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    clips: _containers.RepeatedCompositeFieldContainer[ClipVectors]
    def __init__(self, collection: _Optional[str] = ..., clips: _Optional[_Iterable[_Union[ClipVectors, _Mapping]]] = ...) -> None: ...

class UpsertResponse(_message.Message):
    __slots__ = ("upserted_vectors",)
    UPSERTED_VECTORS_FIELD_NUMBER: _ClassVar[int]
    upserted_vectors: int
    def __init__(self, upserted_vectors: _Optional[int] = ...) -> None: ...

class DeleteRequest(_message.Message):
    __slots__ = ("collection", "clip_ids")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CLIP_IDS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    clip_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, collection: _Optional[str] = ..., clip_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class DeleteResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("collection", "queries", "top_k", "filter", "search_breadth", "exclude_clip_ids")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    SEARCH_BREADTH_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_CLIP_IDS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    queries: _containers.RepeatedCompositeFieldContainer[Vector]
    top_k: int
    filter: _types_pb2.SearchFilter
    search_breadth: int
    exclude_clip_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, collection: _Optional[str] = ..., queries: _Optional[_Iterable[_Union[Vector, _Mapping]]] = ..., top_k: _Optional[int] = ..., filter: _Optional[_Union[_types_pb2.SearchFilter, _Mapping]] = ..., search_breadth: _Optional[int] = ..., exclude_clip_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class Hit(_message.Message):
    __slots__ = ("clip_id", "score", "start_seconds", "end_seconds")
    CLIP_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    START_SECONDS_FIELD_NUMBER: _ClassVar[int]
    END_SECONDS_FIELD_NUMBER: _ClassVar[int]
    clip_id: int
    score: float
    start_seconds: float
    end_seconds: float
    def __init__(self, clip_id: _Optional[int] = ..., score: _Optional[float] = ..., start_seconds: _Optional[float] = ..., end_seconds: _Optional[float] = ...) -> None: ...

class QueryResult(_message.Message):
    __slots__ = ("hits",)
    HITS_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[Hit]
    def __init__(self, hits: _Optional[_Iterable[_Union[Hit, _Mapping]]] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[QueryResult]
    def __init__(self, results: _Optional[_Iterable[_Union[QueryResult, _Mapping]]] = ...) -> None: ...

class CountRequest(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class CountResponse(_message.Message):
    __slots__ = ("vectors", "clips")
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    CLIPS_FIELD_NUMBER: _ClassVar[int]
    vectors: int
    clips: int
    def __init__(self, vectors: _Optional[int] = ..., clips: _Optional[int] = ...) -> None: ...

class GetVectorsRequest(_message.Message):
    __slots__ = ("collection", "clip_id")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CLIP_ID_FIELD_NUMBER: _ClassVar[int]
    collection: str
    clip_id: int
    def __init__(self, collection: _Optional[str] = ..., clip_id: _Optional[int] = ...) -> None: ...

class GetVectorsResponse(_message.Message):
    __slots__ = ("segments",)
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    segments: _containers.RepeatedCompositeFieldContainer[Segment]
    def __init__(self, segments: _Optional[_Iterable[_Union[Segment, _Mapping]]] = ...) -> None: ...

class ListClipIdsRequest(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class ListClipIdsResponse(_message.Message):
    __slots__ = ("clip_ids",)
    CLIP_IDS_FIELD_NUMBER: _ClassVar[int]
    clip_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, clip_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class SwitchCollectionRequest(_message.Message):
    __slots__ = ("collection", "target")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    collection: str
    target: str
    def __init__(self, collection: _Optional[str] = ..., target: _Optional[str] = ...) -> None: ...

class SwitchCollectionResponse(_message.Message):
    __slots__ = ("switched",)
    SWITCHED_FIELD_NUMBER: _ClassVar[int]
    switched: bool
    def __init__(self, switched: _Optional[bool] = ...) -> None: ...

class SpeakerRow(_message.Message):
    __slots__ = ("speaker_id", "vector", "cohort_mean", "cohort_std")
    SPEAKER_ID_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    COHORT_MEAN_FIELD_NUMBER: _ClassVar[int]
    COHORT_STD_FIELD_NUMBER: _ClassVar[int]
    speaker_id: str
    vector: Vector
    cohort_mean: float
    cohort_std: float
    def __init__(self, speaker_id: _Optional[str] = ..., vector: _Optional[_Union[Vector, _Mapping]] = ..., cohort_mean: _Optional[float] = ..., cohort_std: _Optional[float] = ...) -> None: ...

class UpsertSpeakersRequest(_message.Message):
    __slots__ = ("collection", "speakers")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    SPEAKERS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    speakers: _containers.RepeatedCompositeFieldContainer[SpeakerRow]
    def __init__(self, collection: _Optional[str] = ..., speakers: _Optional[_Iterable[_Union[SpeakerRow, _Mapping]]] = ...) -> None: ...

class UpsertSpeakersResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeleteSpeakersRequest(_message.Message):
    __slots__ = ("collection", "speaker_ids")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_IDS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    speaker_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, collection: _Optional[str] = ..., speaker_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteSpeakersResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SearchSpeakersRequest(_message.Message):
    __slots__ = ("collection", "queries", "top_k")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    collection: str
    queries: _containers.RepeatedCompositeFieldContainer[Vector]
    top_k: int
    def __init__(self, collection: _Optional[str] = ..., queries: _Optional[_Iterable[_Union[Vector, _Mapping]]] = ..., top_k: _Optional[int] = ...) -> None: ...

class SpeakerHit(_message.Message):
    __slots__ = ("speaker_id", "score", "cohort_mean", "cohort_std")
    SPEAKER_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    COHORT_MEAN_FIELD_NUMBER: _ClassVar[int]
    COHORT_STD_FIELD_NUMBER: _ClassVar[int]
    speaker_id: str
    score: float
    cohort_mean: float
    cohort_std: float
    def __init__(self, speaker_id: _Optional[str] = ..., score: _Optional[float] = ..., cohort_mean: _Optional[float] = ..., cohort_std: _Optional[float] = ...) -> None: ...

class SpeakerHits(_message.Message):
    __slots__ = ("hits",)
    HITS_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[SpeakerHit]
    def __init__(self, hits: _Optional[_Iterable[_Union[SpeakerHit, _Mapping]]] = ...) -> None: ...

class SearchSpeakersResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SpeakerHits]
    def __init__(self, results: _Optional[_Iterable[_Union[SpeakerHits, _Mapping]]] = ...) -> None: ...

class GetSpeakersRequest(_message.Message):
    __slots__ = ("collection", "speaker_ids")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_IDS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    speaker_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, collection: _Optional[str] = ..., speaker_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetSpeakersResponse(_message.Message):
    __slots__ = ("speakers",)
    SPEAKERS_FIELD_NUMBER: _ClassVar[int]
    speakers: _containers.RepeatedCompositeFieldContainer[SpeakerRow]
    def __init__(self, speakers: _Optional[_Iterable[_Union[SpeakerRow, _Mapping]]] = ...) -> None: ...
