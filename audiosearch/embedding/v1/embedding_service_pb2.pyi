from audiosearch.type.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[_types_pb2.ModelInfo]
    def __init__(self, models: _Optional[_Iterable[_Union[_types_pb2.ModelInfo, _Mapping]]] = ...) -> None: ...

class EmbedOptions(_message.Message):
    __slots__ = ("model", "segments")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    model: str
    segments: _types_pb2.SegmentOptions
    def __init__(self, model: _Optional[str] = ..., segments: _Optional[_Union[_types_pb2.SegmentOptions, _Mapping]] = ...) -> None: ...

class EmbedAudioRequest(_message.Message):
    __slots__ = ("options", "content", "uri")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    options: EmbedOptions
    content: bytes
    uri: str
    def __init__(self, options: _Optional[_Union[EmbedOptions, _Mapping]] = ..., content: _Optional[bytes] = ..., uri: _Optional[str] = ...) -> None: ...

class StreamEmbedAudioRequest(_message.Message):
    __slots__ = ("options", "chunk")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    options: EmbedOptions
    chunk: bytes
    def __init__(self, options: _Optional[_Union[EmbedOptions, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class Embedding(_message.Message):
    __slots__ = ("vector", "start_seconds", "end_seconds")
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    START_SECONDS_FIELD_NUMBER: _ClassVar[int]
    END_SECONDS_FIELD_NUMBER: _ClassVar[int]
    vector: _containers.RepeatedScalarFieldContainer[float]
    start_seconds: float
    end_seconds: float
    def __init__(self, vector: _Optional[_Iterable[float]] = ..., start_seconds: _Optional[float] = ..., end_seconds: _Optional[float] = ...) -> None: ...

class EmbedAudioResponse(_message.Message):
    __slots__ = ("model", "audio", "embeddings")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    model: str
    audio: _types_pb2.AudioInfo
    embeddings: _containers.RepeatedCompositeFieldContainer[Embedding]
    def __init__(self, model: _Optional[str] = ..., audio: _Optional[_Union[_types_pb2.AudioInfo, _Mapping]] = ..., embeddings: _Optional[_Iterable[_Union[Embedding, _Mapping]]] = ...) -> None: ...

class CutAudioRequest(_message.Message):
    __slots__ = ("content", "start_seconds", "end_seconds")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    START_SECONDS_FIELD_NUMBER: _ClassVar[int]
    END_SECONDS_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    start_seconds: float
    end_seconds: float
    def __init__(self, content: _Optional[bytes] = ..., start_seconds: _Optional[float] = ..., end_seconds: _Optional[float] = ...) -> None: ...

class CutAudioResponse(_message.Message):
    __slots__ = ("wav", "start_seconds", "end_seconds")
    WAV_FIELD_NUMBER: _ClassVar[int]
    START_SECONDS_FIELD_NUMBER: _ClassVar[int]
    END_SECONDS_FIELD_NUMBER: _ClassVar[int]
    wav: bytes
    start_seconds: float
    end_seconds: float
    def __init__(self, wav: _Optional[bytes] = ..., start_seconds: _Optional[float] = ..., end_seconds: _Optional[float] = ...) -> None: ...
