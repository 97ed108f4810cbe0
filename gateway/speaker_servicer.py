"""SpeakerService: translates the speaker proto to the speaker core and back, nothing else."""

from audiosearch.gateway.v1 import speaker_service_pb2 as pb2
from audiosearch.gateway.v1 import speaker_service_pb2_grpc as pb2_grpc
from audiosearch.runtime import convert
from audiosearch.runtime.upload import assemble_upload
from gateway.speakers import Query, Speaker, SpeakerCore, Threshold

_SOURCES = {
    "CALIBRATED": pb2.DecisionThreshold.SOURCE_CALIBRATED,
    "MODEL_DEFAULT": pb2.DecisionThreshold.SOURCE_MODEL_DEFAULT,
}
_Identified = pb2.IdentifySpeakerResponse
_Verified = pb2.VerifySpeakerResponse


def _scoring(value: int) -> str:
    return convert.enum_name(pb2.Scoring, value, "SCORING_")


def _query(request) -> Query:
    which = request.WhichOneof("query")
    return Query(
        audio=request.audio if which == "audio" else None,
        vector=request.vector.values if which == "vector" else None,
    )


def _speaker(speaker: Speaker) -> pb2.Speaker:
    message = pb2.Speaker(
        collection=speaker.collection,
        speaker_id=speaker.speaker_id,
        utterances=[convert.clip_to_proto(clip) for clip in speaker.utterances],
        speech_seconds=speaker.speech_seconds,
    )
    if speaker.create_time:
        message.create_time.FromDatetime(speaker.create_time)
    if speaker.update_time:
        message.update_time.FromDatetime(speaker.update_time)
    return message


def _threshold(threshold: Threshold | None) -> pb2.DecisionThreshold | None:
    if threshold is None:
        return None
    return pb2.DecisionThreshold(
        value=threshold.value,
        source=_SOURCES[threshold.source],
        target_false_accept_rate=threshold.target_false_accept_rate,
        scoring=pb2.Scoring.Value(f"SCORING_{threshold.scoring}"),
        open_set=threshold.open_set,
    )


class SpeakerServicer(pb2_grpc.SpeakerServiceServicer):
    def __init__(self, core: SpeakerCore) -> None:
        self.core = core

    def EnrollSpeaker(self, request_iterator, context):
        options, content = assemble_upload(request_iterator, "options", self.core.gateway.max_upload_bytes)
        speaker, clip, duplicate = self.core.enroll(
            options.collection, options.speaker_id, content, options.source, options.request_id
        )
        return pb2.EnrollSpeakerResponse(
            speaker=_speaker(speaker), utterance=convert.clip_to_proto(clip), duplicate=duplicate
        )

    def GetSpeaker(self, request, context):
        return _speaker(self.core.get_speaker(request.collection, request.speaker_id))

    def ListSpeakers(self, request, context):
        speakers, token = self.core.list_speakers(request.collection, request.page_size, request.page_token)
        return pb2.ListSpeakersResponse(speakers=[_speaker(s) for s in speakers], next_page_token=token)

    def DeleteSpeaker(self, request, context):
        return pb2.DeleteSpeakerResponse(
            deleted_utterances=self.core.delete_speaker(request.collection, request.speaker_id)
        )

    def IdentifySpeaker(self, request, context):
        result = self.core.identify(request.collection, _query(request), request.top_k, _scoring(request.scoring))
        return _Identified(
            decision=_Identified.DECISION_UNKNOWN if result.unknown_reason else _Identified.DECISION_IDENTIFIED,
            speaker_id=result.speaker_id,
            unknown_reason=_Identified.UnknownReason.Value(f"UNKNOWN_REASON_{result.unknown_reason}")
            if result.unknown_reason
            else _Identified.UNKNOWN_REASON_UNSPECIFIED,
            candidates=[pb2.SpeakerScore(speaker_id=name, score=score) for name, score in result.candidates],
            threshold=_threshold(result.threshold),
            low_confidence=result.low_confidence,
            speech_seconds=result.speech_seconds,
        )

    def VerifySpeaker(self, request, context):
        result = self.core.verify(request.collection, request.speaker_id, _query(request), _scoring(request.scoring))
        return _Verified(
            decision=_Verified.DECISION_ACCEPT if result.accepted else _Verified.DECISION_REJECT,
            score=result.score,
            threshold=_threshold(result.threshold),
            low_confidence=result.low_confidence,
            speech_seconds=result.speech_seconds,
        )

    def CalibrateSpeakers(self, request, context):
        calibration, speakers = self.core.calibrate(
            request.collection, request.target_false_accept_rate, _scoring(request.scoring)
        )
        return pb2.CalibrateSpeakersResponse(calibration=convert.calibration_to_proto(calibration), speakers=speakers)
