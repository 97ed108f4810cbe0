from audiosearch.type.v1 import import_job_pb2 as _import_job_pb2
from audiosearch.type.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateImportJobRequest(_message.Message):
    __slots__ = ("collection", "path", "recursive", "labels", "label_from_parent", "request_id")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    RECURSIVE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FROM_PARENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    collection: str
    path: str
    recursive: bool
    labels: _types_pb2.Labels
    label_from_parent: bool
    request_id: str
    def __init__(self, collection: _Optional[str] = ..., path: _Optional[str] = ..., recursive: _Optional[bool] = ..., labels: _Optional[_Union[_types_pb2.Labels, _Mapping]] = ..., label_from_parent: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetImportJobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class ListImportJobsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListImportJobsResponse(_message.Message):
    __slots__ = ("import_jobs", "next_page_token")
    IMPORT_JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    import_jobs: _containers.RepeatedCompositeFieldContainer[_import_job_pb2.ImportJob]
    next_page_token: str
    def __init__(self, import_jobs: _Optional[_Iterable[_Union[_import_job_pb2.ImportJob, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelImportJobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class WatchImportJobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class ListImportJobFailuresRequest(_message.Message):
    __slots__ = ("id", "page_size", "page_token")
    ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    id: int
    page_size: int
    page_token: str
    def __init__(self, id: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListImportJobFailuresResponse(_message.Message):
    __slots__ = ("failures", "next_page_token")
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    failures: _containers.RepeatedCompositeFieldContainer[_import_job_pb2.ImportJobFile]
    next_page_token: str
    def __init__(self, failures: _Optional[_Iterable[_Union[_import_job_pb2.ImportJobFile, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RebuildCollectionRequest(_message.Message):
    __slots__ = ("collection", "model", "segments", "request_id")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    collection: str
    model: str
    segments: _types_pb2.SegmentOptions
    request_id: str
    def __init__(self, collection: _Optional[str] = ..., model: _Optional[str] = ..., segments: _Optional[_Union[_types_pb2.SegmentOptions, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...
