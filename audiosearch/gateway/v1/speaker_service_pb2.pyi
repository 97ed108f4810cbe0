import datetime

from audiosearch.gateway.v1 import gateway_service_pb2 as _gateway_service_pb2
from audiosearch.type.v1 import types_pb2 as _types_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Scoring(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCORING_UNSPECIFIED: _ClassVar[Scoring]
    SCORING_CENTROID: _ClassVar[Scoring]
    SCORING_MAX: _ClassVar[Scoring]
    SCORING_TOP_K_MEAN: _ClassVar[Scoring]
    SCORING_AS_NORM: _ClassVar[Scoring]
SCORING_UNSPECIFIED: Scoring
SCORING_CENTROID: Scoring
SCORING_MAX: Scoring
SCORING_TOP_K_MEAN: Scoring
SCORING_AS_NORM: Scoring

class EnrollOptions(_message.Message):
    __slots__ = ("collection", "speaker_id", "source", "request_id")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    collection: str
    speaker_id: str
    source: str
    request_id: str
    def __init__(self, collection: _Optional[str] = ..., speaker_id: _Optional[str] = ..., source: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class EnrollSpeakerRequest(_message.Message):
    __slots__ = ("options", "chunk")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    options: EnrollOptions
    chunk: bytes
    def __init__(self, options: _Optional[_Union[EnrollOptions, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class EnrollSpeakerResponse(_message.Message):
    __slots__ = ("speaker", "utterance", "duplicate")
    SPEAKER_FIELD_NUMBER: _ClassVar[int]
    UTTERANCE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    speaker: Speaker
    utterance: _types_pb2.Clip
    duplicate: bool
    def __init__(self, speaker: _Optional[_Union[Speaker, _Mapping]] = ..., utterance: _Optional[_Union[_types_pb2.Clip, _Mapping]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class Speaker(_message.Message):
    __slots__ = ("collection", "speaker_id", "utterances", "speech_seconds", "create_time", "update_time")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_ID_FIELD_NUMBER: _ClassVar[int]
    UTTERANCES_FIELD_NUMBER: _ClassVar[int]
    SPEECH_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    collection: str
    speaker_id: str
    utterances: _containers.RepeatedCompositeFieldContainer[_types_pb2.Clip]
    speech_seconds: float
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, collection: _Optional[str] = ..., speaker_id: _Optional[str] = ..., utterances: _Optional[_Iterable[_Union[_types_pb2.Clip, _Mapping]]] = ..., speech_seconds: _Optional[float] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetSpeakerRequest(_message.Message):
    __slots__ = ("collection", "speaker_id")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_ID_FIELD_NUMBER: _ClassVar[int]
    collection: str
    speaker_id: str
    def __init__(self, collection: _Optional[str] = ..., speaker_id: _Optional[str] = ...) -> None: ...

class ListSpeakersRequest(_message.Message):
    __slots__ = ("collection", "page_size", "page_token")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    collection: str
    page_size: int
    page_token: str
    def __init__(self, collection: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSpeakersResponse(_message.Message):
    __slots__ = ("speakers", "next_page_token")
    SPEAKERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    speakers: _containers.RepeatedCompositeFieldContainer[Speaker]
    next_page_token: str
    def __init__(self, speakers: _Optional[_Iterable[_Union[Speaker, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteSpeakerRequest(_message.Message):
    __slots__ = ("collection", "speaker_id")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_ID_FIELD_NUMBER: _ClassVar[int]
    collection: str
    speaker_id: str
    def __init__(self, collection: _Optional[str] = ..., speaker_id: _Optional[str] = ...) -> None: ...

class DeleteSpeakerResponse(_message.Message):
    __slots__ = ("deleted_utterances",)
    DELETED_UTTERANCES_FIELD_NUMBER: _ClassVar[int]
    deleted_utterances: int
    def __init__(self, deleted_utterances: _Optional[int] = ...) -> None: ...

class DecisionThreshold(_message.Message):
    __slots__ = ("value", "source", "target_false_accept_rate", "scoring", "open_set")
    class Source(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SOURCE_UNSPECIFIED: _ClassVar[DecisionThreshold.Source]
        SOURCE_CALIBRATED: _ClassVar[DecisionThreshold.Source]
        SOURCE_MODEL_DEFAULT: _ClassVar[DecisionThreshold.Source]
    SOURCE_UNSPECIFIED: DecisionThreshold.Source
    SOURCE_CALIBRATED: DecisionThreshold.Source
    SOURCE_MODEL_DEFAULT: DecisionThreshold.Source
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FALSE_ACCEPT_RATE_FIELD_NUMBER: _ClassVar[int]
    SCORING_FIELD_NUMBER: _ClassVar[int]
    OPEN_SET_FIELD_NUMBER: _ClassVar[int]
    value: float
    source: DecisionThreshold.Source
    target_false_accept_rate: float
    scoring: Scoring
    open_set: bool
    def __init__(self, value: _Optional[float] = ..., source: _Optional[_Union[DecisionThreshold.Source, str]] = ..., target_false_accept_rate: _Optional[float] = ..., scoring: _Optional[_Union[Scoring, str]] = ..., open_set: _Optional[bool] = ...) -> None: ...

class IdentifySpeakerRequest(_message.Message):
    __slots__ = ("collection", "audio", "vector", "top_k", "scoring")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    SCORING_FIELD_NUMBER: _ClassVar[int]
    collection: str
    audio: bytes
    vector: _gateway_service_pb2.VectorQuery
    top_k: int
    scoring: Scoring
    def __init__(self, collection: _Optional[str] = ..., audio: _Optional[bytes] = ..., vector: _Optional[_Union[_gateway_service_pb2.VectorQuery, _Mapping]] = ..., top_k: _Optional[int] = ..., scoring: _Optional[_Union[Scoring, str]] = ...) -> None: ...

class SpeakerScore(_message.Message):
    __slots__ = ("speaker_id", "score")
    SPEAKER_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    speaker_id: str
    score: float
    def __init__(self, speaker_id: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class IdentifySpeakerResponse(_message.Message):
    __slots__ = ("decision", "speaker_id", "unknown_reason", "candidates", "threshold", "low_confidence", "speech_seconds")
    class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        DECISION_UNSPECIFIED: _ClassVar[IdentifySpeakerResponse.Decision]
        DECISION_IDENTIFIED: _ClassVar[IdentifySpeakerResponse.Decision]
        DECISION_UNKNOWN: _ClassVar[IdentifySpeakerResponse.Decision]
    DECISION_UNSPECIFIED: IdentifySpeakerResponse.Decision
    DECISION_IDENTIFIED: IdentifySpeakerResponse.Decision
    DECISION_UNKNOWN: IdentifySpeakerResponse.Decision
    class UnknownReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        UNKNOWN_REASON_UNSPECIFIED: _ClassVar[IdentifySpeakerResponse.UnknownReason]
        UNKNOWN_REASON_BELOW_THRESHOLD: _ClassVar[IdentifySpeakerResponse.UnknownReason]
        UNKNOWN_REASON_TOO_CLOSE_TO_RUNNER_UP: _ClassVar[IdentifySpeakerResponse.UnknownReason]
        UNKNOWN_REASON_NO_SPEAKERS: _ClassVar[IdentifySpeakerResponse.UnknownReason]
    UNKNOWN_REASON_UNSPECIFIED: IdentifySpeakerResponse.UnknownReason
    UNKNOWN_REASON_BELOW_THRESHOLD: IdentifySpeakerResponse.UnknownReason
    UNKNOWN_REASON_TOO_CLOSE_TO_RUNNER_UP: IdentifySpeakerResponse.UnknownReason
    UNKNOWN_REASON_NO_SPEAKERS: IdentifySpeakerResponse.UnknownReason
    DECISION_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_ID_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_REASON_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    LOW_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    SPEECH_SECONDS_FIELD_NUMBER: _ClassVar[int]
    decision: IdentifySpeakerResponse.Decision
    speaker_id: str
    unknown_reason: IdentifySpeakerResponse.UnknownReason
    candidates: _containers.RepeatedCompositeFieldContainer[SpeakerScore]
    threshold: DecisionThreshold
    low_confidence: bool
    speech_seconds: float
    def __init__(self, decision: _Optional[_Union[IdentifySpeakerResponse.Decision, str]] = ..., speaker_id: _Optional[str] = ..., unknown_reason: _Optional[_Union[IdentifySpeakerResponse.UnknownReason, str]] = ..., candidates: _Optional[_Iterable[_Union[SpeakerScore, _Mapping]]] = ..., threshold: _Optional[_Union[DecisionThreshold, _Mapping]] = ..., low_confidence: _Optional[bool] = ..., speech_seconds: _Optional[float] = ...) -> None: ...

class VerifySpeakerRequest(_message.Message):
    __slots__ = ("collection", "speaker_id", "audio", "vector", "scoring")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_ID_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    SCORING_FIELD_NUMBER: _ClassVar[int]
    collection: str
    speaker_id: str
    audio: bytes
    vector: _gateway_service_pb2.VectorQuery
    scoring: Scoring
    def __init__(self, collection: _Optional[str] = ..., speaker_id: _Optional[str] = ..., audio: _Optional[bytes] = ..., vector: _Optional[_Union[_gateway_service_pb2.VectorQuery, _Mapping]] = ..., scoring: _Optional[_Union[Scoring, str]] = ...) -> None: ...

class VerifySpeakerResponse(_message.Message):
    __slots__ = ("decision", "score", "threshold", "low_confidence", "speech_seconds")
    class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        DECISION_UNSPECIFIED: _ClassVar[VerifySpeakerResponse.Decision]
        DECISION_ACCEPT: _ClassVar[VerifySpeakerResponse.Decision]
        DECISION_REJECT: _ClassVar[VerifySpeakerResponse.Decision]
    DECISION_UNSPECIFIED: VerifySpeakerResponse.Decision
    DECISION_ACCEPT: VerifySpeakerResponse.Decision
    DECISION_REJECT: VerifySpeakerResponse.Decision
    DECISION_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    LOW_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    SPEECH_SECONDS_FIELD_NUMBER: _ClassVar[int]
    decision: VerifySpeakerResponse.Decision
    score: float
    threshold: DecisionThreshold
    low_confidence: bool
    speech_seconds: float
    def __init__(self, decision: _Optional[_Union[VerifySpeakerResponse.Decision, str]] = ..., score: _Optional[float] = ..., threshold: _Optional[_Union[DecisionThreshold, _Mapping]] = ..., low_confidence: _Optional[bool] = ..., speech_seconds: _Optional[float] = ...) -> None: ...

class CalibrateSpeakersRequest(_message.Message):
    __slots__ = ("collection", "target_false_accept_rate", "scoring")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_FALSE_ACCEPT_RATE_FIELD_NUMBER: _ClassVar[int]
    SCORING_FIELD_NUMBER: _ClassVar[int]
    collection: str
    target_false_accept_rate: float
    scoring: Scoring
    def __init__(self, collection: _Optional[str] = ..., target_false_accept_rate: _Optional[float] = ..., scoring: _Optional[_Union[Scoring, str]] = ...) -> None: ...

class CalibrateSpeakersResponse(_message.Message):
    __slots__ = ("calibration", "speakers")
    CALIBRATION_FIELD_NUMBER: _ClassVar[int]
    SPEAKERS_FIELD_NUMBER: _ClassVar[int]
    calibration: _types_pb2.Calibration
    speakers: int
    def __init__(self, calibration: _Optional[_Union[_types_pb2.Calibration, _Mapping]] = ..., speakers: _Optional[int] = ...) -> None: ...
