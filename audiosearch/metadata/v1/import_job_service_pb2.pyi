from audiosearch.type.v1 import import_job_pb2 as _import_job_pb2
from audiosearch.type.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateImportJobRequest(_message.Message):
    __slots__ = ("import_job", "request_id")
    IMPORT_JOB_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    import_job: _import_job_pb2.ImportJob
    request_id: str
    def __init__(self, import_job: _Optional[_Union[_import_job_pb2.ImportJob, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

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

class ClaimImportJobRequest(_message.Message):
    __slots__ = ("holder", "lease_seconds")
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    LEASE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    holder: str
    lease_seconds: float
    def __init__(self, holder: _Optional[str] = ..., lease_seconds: _Optional[float] = ...) -> None: ...

class ClaimImportJobResponse(_message.Message):
    __slots__ = ("import_job", "claimed")
    IMPORT_JOB_FIELD_NUMBER: _ClassVar[int]
    CLAIMED_FIELD_NUMBER: _ClassVar[int]
    import_job: _import_job_pb2.ImportJob
    claimed: bool
    def __init__(self, import_job: _Optional[_Union[_import_job_pb2.ImportJob, _Mapping]] = ..., claimed: _Optional[bool] = ...) -> None: ...

class RenewImportJobLeaseRequest(_message.Message):
    __slots__ = ("id", "holder", "lease_seconds")
    ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    LEASE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    id: int
    holder: str
    lease_seconds: float
    def __init__(self, id: _Optional[int] = ..., holder: _Optional[str] = ..., lease_seconds: _Optional[float] = ...) -> None: ...

class AddImportJobFilesRequest(_message.Message):
    __slots__ = ("id", "holder", "first_ordinal", "paths", "listing_done")
    ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    FIRST_ORDINAL_FIELD_NUMBER: _ClassVar[int]
    PATHS_FIELD_NUMBER: _ClassVar[int]
    LISTING_DONE_FIELD_NUMBER: _ClassVar[int]
    id: int
    holder: str
    first_ordinal: int
    paths: _containers.RepeatedScalarFieldContainer[str]
    listing_done: bool
    def __init__(self, id: _Optional[int] = ..., holder: _Optional[str] = ..., first_ordinal: _Optional[int] = ..., paths: _Optional[_Iterable[str]] = ..., listing_done: _Optional[bool] = ...) -> None: ...

class ListImportJobFilesRequest(_message.Message):
    __slots__ = ("id", "after_ordinal", "page_size", "which")
    class Which(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        WHICH_UNSPECIFIED: _ClassVar[ListImportJobFilesRequest.Which]
        WHICH_PENDING: _ClassVar[ListImportJobFilesRequest.Which]
        WHICH_FAILED: _ClassVar[ListImportJobFilesRequest.Which]
        WHICH_ALL: _ClassVar[ListImportJobFilesRequest.Which]
    WHICH_UNSPECIFIED: ListImportJobFilesRequest.Which
    WHICH_PENDING: ListImportJobFilesRequest.Which
    WHICH_FAILED: ListImportJobFilesRequest.Which
    WHICH_ALL: ListImportJobFilesRequest.Which
    ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_ORDINAL_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    WHICH_FIELD_NUMBER: _ClassVar[int]
    id: int
    after_ordinal: int
    page_size: int
    which: ListImportJobFilesRequest.Which
    def __init__(self, id: _Optional[int] = ..., after_ordinal: _Optional[int] = ..., page_size: _Optional[int] = ..., which: _Optional[_Union[ListImportJobFilesRequest.Which, str]] = ...) -> None: ...

class ListImportJobFilesResponse(_message.Message):
    __slots__ = ("files",)
    FILES_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[_import_job_pb2.ImportJobFile]
    def __init__(self, files: _Optional[_Iterable[_Union[_import_job_pb2.ImportJobFile, _Mapping]]] = ...) -> None: ...

class ImportClip(_message.Message):
    __slots__ = ("clip", "request_id")
    CLIP_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    clip: _types_pb2.Clip
    request_id: str
    def __init__(self, clip: _Optional[_Union[_types_pb2.Clip, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateImportClipsRequest(_message.Message):
    __slots__ = ("id", "holder", "clips")
    ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    CLIPS_FIELD_NUMBER: _ClassVar[int]
    id: int
    holder: str
    clips: _containers.RepeatedCompositeFieldContainer[ImportClip]
    def __init__(self, id: _Optional[int] = ..., holder: _Optional[str] = ..., clips: _Optional[_Iterable[_Union[ImportClip, _Mapping]]] = ...) -> None: ...

class ImportClipResult(_message.Message):
    __slots__ = ("clip", "ours", "error")
    CLIP_FIELD_NUMBER: _ClassVar[int]
    OURS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    clip: _types_pb2.Clip
    ours: bool
    error: str
    def __init__(self, clip: _Optional[_Union[_types_pb2.Clip, _Mapping]] = ..., ours: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class CreateImportClipsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ImportClipResult]
    def __init__(self, results: _Optional[_Iterable[_Union[ImportClipResult, _Mapping]]] = ...) -> None: ...

class CompletedFile(_message.Message):
    __slots__ = ("ordinal", "outcome", "clip_id", "ready_segment_count", "error")
    ORDINAL_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CLIP_ID_FIELD_NUMBER: _ClassVar[int]
    READY_SEGMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ordinal: int
    outcome: _import_job_pb2.ImportFileOutcome
    clip_id: int
    ready_segment_count: int
    error: str
    def __init__(self, ordinal: _Optional[int] = ..., outcome: _Optional[_Union[_import_job_pb2.ImportFileOutcome, str]] = ..., clip_id: _Optional[int] = ..., ready_segment_count: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class CompleteImportFilesRequest(_message.Message):
    __slots__ = ("id", "holder", "files")
    ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    id: int
    holder: str
    files: _containers.RepeatedCompositeFieldContainer[CompletedFile]
    def __init__(self, id: _Optional[int] = ..., holder: _Optional[str] = ..., files: _Optional[_Iterable[_Union[CompletedFile, _Mapping]]] = ...) -> None: ...

class FinishImportJobRequest(_message.Message):
    __slots__ = ("id", "holder", "state", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: int
    holder: str
    state: _import_job_pb2.ImportJobState
    error: str
    def __init__(self, id: _Optional[int] = ..., holder: _Optional[str] = ..., state: _Optional[_Union[_import_job_pb2.ImportJobState, str]] = ..., error: _Optional[str] = ...) -> None: ...
