from audiosearch.type.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateCollectionRequest(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: _types_pb2.Collection
    def __init__(self, collection: _Optional[_Union[_types_pb2.Collection, _Mapping]] = ...) -> None: ...

class GetCollectionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

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

class DeleteCollectionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteCollectionResponse(_message.Message):
    __slots__ = ("deleted_clips",)
    DELETED_CLIPS_FIELD_NUMBER: _ClassVar[int]
    deleted_clips: int
    def __init__(self, deleted_clips: _Optional[int] = ...) -> None: ...

class CreateClipRequest(_message.Message):
    __slots__ = ("clip", "request_id")
    CLIP_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    clip: _types_pb2.Clip
    request_id: str
    def __init__(self, clip: _Optional[_Union[_types_pb2.Clip, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateClipResponse(_message.Message):
    __slots__ = ("clip", "created")
    CLIP_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    clip: _types_pb2.Clip
    created: bool
    def __init__(self, clip: _Optional[_Union[_types_pb2.Clip, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetClipRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class BatchGetClipsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, ids: _Optional[_Iterable[int]] = ...) -> None: ...

class BatchGetClipsResponse(_message.Message):
    __slots__ = ("clips",)
    CLIPS_FIELD_NUMBER: _ClassVar[int]
    clips: _containers.RepeatedCompositeFieldContainer[_types_pb2.Clip]
    def __init__(self, clips: _Optional[_Iterable[_Union[_types_pb2.Clip, _Mapping]]] = ...) -> None: ...

class ListClipsRequest(_message.Message):
    __slots__ = ("collection", "page_size", "page_token", "filter", "state")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    collection: str
    page_size: int
    page_token: str
    filter: _types_pb2.SearchFilter
    state: _types_pb2.ClipState
    def __init__(self, collection: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[_Union[_types_pb2.SearchFilter, _Mapping]] = ..., state: _Optional[_Union[_types_pb2.ClipState, str]] = ...) -> None: ...

class ListClipsResponse(_message.Message):
    __slots__ = ("clips", "next_page_token")
    CLIPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    clips: _containers.RepeatedCompositeFieldContainer[_types_pb2.Clip]
    next_page_token: str
    def __init__(self, clips: _Optional[_Iterable[_Union[_types_pb2.Clip, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class FindByContentHashRequest(_message.Message):
    __slots__ = ("collection", "content_sha256")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    collection: str
    content_sha256: str
    def __init__(self, collection: _Optional[str] = ..., content_sha256: _Optional[str] = ...) -> None: ...

class UpdateClipStateRequest(_message.Message):
    __slots__ = ("id", "state", "audio", "segment_count")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    id: int
    state: _types_pb2.ClipState
    audio: _types_pb2.AudioInfo
    segment_count: int
    def __init__(self, id: _Optional[int] = ..., state: _Optional[_Union[_types_pb2.ClipState, str]] = ..., audio: _Optional[_Union[_types_pb2.AudioInfo, _Mapping]] = ..., segment_count: _Optional[int] = ...) -> None: ...

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

class CountClipsRequest(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class CountClipsResponse(_message.Message):
    __slots__ = ("by_state",)
    class ByStateEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    BY_STATE_FIELD_NUMBER: _ClassVar[int]
    by_state: _containers.ScalarMap[str, int]
    def __init__(self, by_state: _Optional[_Mapping[str, int]] = ...) -> None: ...

class SetCalibrationRequest(_message.Message):
    __slots__ = ("collection", "calibration")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    calibration: _types_pb2.Calibration
    def __init__(self, collection: _Optional[str] = ..., calibration: _Optional[_Union[_types_pb2.Calibration, _Mapping]] = ...) -> None: ...

class PutClipAudioRequest(_message.Message):
    __slots__ = ("clip_id", "chunk")
    CLIP_ID_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    clip_id: int
    chunk: bytes
    def __init__(self, clip_id: _Optional[int] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class PutClipAudioResponse(_message.Message):
    __slots__ = ("clip", "stored")
    CLIP_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    clip: _types_pb2.Clip
    stored: bool
    def __init__(self, clip: _Optional[_Union[_types_pb2.Clip, _Mapping]] = ..., stored: _Optional[bool] = ...) -> None: ...

class ClipContent(_message.Message):
    __slots__ = ("clip_id", "content")
    CLIP_ID_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    clip_id: int
    content: bytes
    def __init__(self, clip_id: _Optional[int] = ..., content: _Optional[bytes] = ...) -> None: ...

class BatchPutClipAudioRequest(_message.Message):
    __slots__ = ("clips",)
    CLIPS_FIELD_NUMBER: _ClassVar[int]
    clips: _containers.RepeatedCompositeFieldContainer[ClipContent]
    def __init__(self, clips: _Optional[_Iterable[_Union[ClipContent, _Mapping]]] = ...) -> None: ...

class BatchPutClipAudioResponse(_message.Message):
    __slots__ = ("missing_clip_ids",)
    MISSING_CLIP_IDS_FIELD_NUMBER: _ClassVar[int]
    missing_clip_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, missing_clip_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class ReadClipAudioRequest(_message.Message):
    __slots__ = ("clip_id",)
    CLIP_ID_FIELD_NUMBER: _ClassVar[int]
    clip_id: int
    def __init__(self, clip_id: _Optional[int] = ...) -> None: ...

class ReadClipAudioResponse(_message.Message):
    __slots__ = ("blob", "chunk")
    BLOB_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    blob: _types_pb2.AudioBlob
    chunk: bytes
    def __init__(self, blob: _Optional[_Union[_types_pb2.AudioBlob, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class RemoveOrphanAudioRequest(_message.Message):
    __slots__ = ("min_age_seconds", "dry_run")
    MIN_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    min_age_seconds: float
    dry_run: bool
    def __init__(self, min_age_seconds: _Optional[float] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class RemoveOrphanAudioResponse(_message.Message):
    __slots__ = ("removed",)
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    removed: int
    def __init__(self, removed: _Optional[int] = ...) -> None: ...
