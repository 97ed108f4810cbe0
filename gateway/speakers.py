"""Speakers of a speakers-purpose collection (issue #12; decisions in docs/speakers.md).

A speaker is the set of the collection's READY clips whose labels.speaker is its id: enrolling is ingesting (the
same dedupe, request_id and undo machinery), deleting a speaker deletes its clips. Identification searches the
vector index (top-N hits grouped by speaker) and rescores only the best few speakers from their vectors, the same
way verification and calibration score, so one threshold means the same everywhere.
"""

import dataclasses
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Protocol

import numpy as np

from audiosearch.runtime import domain, rules
from audiosearch.runtime.error_rates import Trials
from audiosearch.sdk import errors
from audiosearch.sdk.errors import SettingsError
from gateway import speaker_scoring as scoring
from gateway.core import GatewayCore, IngestRequest

LIST_PAGE = 1000
# Ids per BatchGetClips call: the metadata service's limit.
BATCH_IDS = 1000
MAX_CANDIDATES = 20


class Calibrations(Protocol):
    def set_calibration(self, name: str, calibration: domain.Calibration | None) -> domain.Collection: ...


@dataclasses.dataclass(frozen=True)
class SpeakerSettings:
    min_speech_seconds: float = 2.0
    low_confidence_seconds: float = 3.0
    # Clips the index returns per identification: enough to hold the top cohort of speakers.
    search_hits: int = 300
    # UNKNOWN when the best is within this of the runner-up (in score units); 0 turns the rule off.
    min_margin: float = 0.0
    scoring_options: scoring.ScoringOptions = scoring.ScoringOptions()


def speaker_settings(settings) -> SpeakerSettings:
    """The speaker settings among the gateway's (gateway.config.GatewaySettings)."""
    if settings.speaker_scoring.upper() not in rules.SCORINGS:
        raise SettingsError(
            f"speaker_scoring must be one of {', '.join(rules.SCORINGS)}, not {settings.speaker_scoring!r}"
        )
    return SpeakerSettings(
        min_speech_seconds=settings.speaker_min_speech_seconds,
        low_confidence_seconds=settings.speaker_low_confidence_seconds,
        search_hits=settings.speaker_search_hits,
        min_margin=settings.speaker_min_margin,
        scoring_options=scoring.ScoringOptions(
            method=settings.speaker_scoring.upper(),
            top_k=settings.speaker_top_k,
            cohort_size=settings.speaker_cohort_size,
        ),
    )


@dataclasses.dataclass(frozen=True)
class Speaker:
    collection: str
    speaker_id: str
    utterances: list[domain.Clip]

    @property
    def speech_seconds(self) -> float:
        return sum(clip.audio.speech_seconds for clip in self.utterances)

    @property
    def create_time(self) -> datetime | None:
        return min((c.create_time for c in self.utterances if c.create_time), default=None)

    @property
    def update_time(self) -> datetime | None:
        return max((c.update_time for c in self.utterances if c.update_time), default=None)


@dataclasses.dataclass(frozen=True)
class Threshold:
    value: float
    source: str  # CALIBRATED or MODEL_DEFAULT
    target_false_accept_rate: float
    scoring: str
    open_set: bool = False


@dataclasses.dataclass(frozen=True)
class Query:
    """Exactly one of audio or vector."""

    audio: bytes | None = None
    vector: Sequence[float] | None = None


@dataclasses.dataclass(frozen=True)
class Identification:
    speaker_id: str  # '' when UNKNOWN
    unknown_reason: str  # '', BELOW_THRESHOLD, TOO_CLOSE_TO_RUNNER_UP or NO_SPEAKERS
    candidates: list[tuple[str, float]]
    threshold: Threshold | None
    low_confidence: bool
    speech_seconds: float


@dataclasses.dataclass(frozen=True)
class Verification:
    accepted: bool
    score: float
    threshold: Threshold
    low_confidence: bool
    speech_seconds: float


@dataclasses.dataclass(frozen=True)
class _Probe:
    vector: np.ndarray
    speech_seconds: float
    low_confidence: bool


class SpeakerCore:
    def __init__(self, gateway: GatewayCore, calibrations: Calibrations, settings: SpeakerSettings) -> None:
        self.gateway = gateway
        self.calibrations = calibrations
        self.settings = settings
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="speaker-vectors")

    # Enrollment and the speaker resource

    def enroll(
        self, collection: str, speaker_id: str, content: bytes, source: str = "", request_id: str = ""
    ) -> tuple[Speaker, domain.Clip, bool]:
        """Add one utterance to the speaker (created by its first). The same audio again for this speaker is a
        duplicate; audio already enrolled for another speaker is refused, and so is audio with too little speech."""
        rules.check_speaker_id(speaker_id)
        self._speaker_collection(collection)
        result = self.gateway.ingest(
            IngestRequest(
                collection,
                content,
                source,
                domain.Labels(speaker=speaker_id),
                request_id,
                check_audio=self._check_speech,
            )
        )
        if result.clip.labels.speaker != speaker_id:
            raise errors.FailedPrecondition(
                f"this audio is already enrolled for another speaker (clip {result.clip.id}); one recording can "
                "belong to one speaker only",
                "AUDIO_ENROLLED_FOR_ANOTHER_SPEAKER",
            )
        return self.get_speaker(collection, speaker_id), result.clip, result.duplicate

    def _check_speech(self, audio: domain.AudioInfo) -> None:
        if audio.speech_seconds <= 0:
            raise errors.InvalidArgument(
                "the audio holds no speech (no frame above the voice-activity level); send a recording of the speaker",
                "NO_SPEECH",
            )
        if audio.speech_seconds < self.settings.min_speech_seconds:
            raise errors.InvalidArgument(
                f"the audio holds {audio.speech_seconds:.2f} s of speech; an enrollment needs at least "
                f"{self.settings.min_speech_seconds:g} s: send a longer recording",
                "TOO_LITTLE_SPEECH",
            )

    def get_speaker(self, collection: str, speaker_id: str) -> Speaker:
        rules.check_speaker_id(speaker_id)
        self._speaker_collection(collection)
        utterances = self._utterances(collection, (speaker_id,))
        if not utterances:
            raise errors.NotFound(
                f"speaker {speaker_id!r} is not enrolled in collection {collection!r}", "SPEAKER_NOT_FOUND"
            )
        return Speaker(collection, speaker_id, utterances)

    def list_speakers(self, collection: str, page_size: int, page_token: str) -> tuple[list[Speaker], str]:
        """Speakers ordered by id, after the id in page_token. Reads the collection's clip records (no speaker
        table): fine for thousands of speakers, see docs/speakers.md."""
        errors.require(
            0 <= page_size <= LIST_PAGE, f"page_size must be 0..{LIST_PAGE} (0 means 50)", "INVALID_PAGE_SIZE"
        )
        self._speaker_collection(collection)
        by_speaker: dict[str, list[domain.Clip]] = {}
        for clip in self._utterances(collection, ()):
            if clip.labels.speaker > page_token:
                by_speaker.setdefault(clip.labels.speaker, []).append(clip)
        names = sorted(by_speaker)
        page = names[: page_size or 50]
        token = page[-1] if len(names) > len(page) else ""
        return [Speaker(collection, name, by_speaker[name]) for name in page], token

    def delete_speaker(self, collection: str, speaker_id: str) -> int:
        """Delete every utterance of the speaker, vectors and records; idempotent (0 when none are left)."""
        rules.check_speaker_id(speaker_id)
        self._speaker_collection(collection)
        deleted = 0
        for clip in self._utterances(collection, (speaker_id,), ready_only=False):
            deleted += self.gateway.delete_clip(clip.id)
        return deleted

    def _utterances(self, collection: str, speakers: tuple[str, ...], ready_only: bool = True) -> list[domain.Clip]:
        found, token = [], ""
        while True:
            clips, token = self.gateway.catalog.list_clips(
                collection, LIST_PAGE, token, domain.SearchFilter(speakers=speakers)
            )
            found += [c for c in clips if c.labels.speaker and (c.state is domain.ClipState.READY or not ready_only)]
            if not token:
                return found

    def _speaker_collection(self, name: str) -> domain.Collection:
        collection = self.gateway.catalog.get_collection(name)
        if collection.purpose != "SPEAKERS":
            raise errors.FailedPrecondition(
                f"collection {name!r} is not a speakers collection (its purpose is "
                f"{collection.purpose or 'unset'}); create one with purpose SPEAKERS",
                "NOT_A_SPEAKER_COLLECTION",
            )
        return collection

    # Decisions

    def identify(self, collection: str, query: Query, top_k: int = 0, method: str = "") -> Identification:
        """The best speakers with one score each, and the decision: the best, or UNKNOWN (with the reason)."""
        top_k = top_k or 5
        errors.require(
            1 <= top_k <= MAX_CANDIDATES, f"top_k must be 1..{MAX_CANDIDATES}, got {top_k}", "INVALID_CANDIDATE_COUNT"
        )
        options = self._options(method)
        target = self._speaker_collection(collection)
        probe = self._probe(target, query)
        best = self._best_by_speaker(collection, probe.vector)
        if not best:
            return Identification("", "NO_SPEAKERS", [], None, probe.low_confidence, probe.speech_seconds)
        used = scoring.effective_method(options, len(best))
        ranked = sorted(best, key=best.__getitem__, reverse=True)[: max(top_k, 2)]
        scores = self._scores(collection, probe.vector, ranked, best, dataclasses.replace(options, method=used))
        candidates = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        threshold = self._threshold(target, used, open_set=True)
        winner, top = candidates[0]
        reason = ""
        if top < threshold.value:
            reason = "BELOW_THRESHOLD"
        elif len(candidates) > 1 and top - candidates[1][1] < self.settings.min_margin:
            reason = "TOO_CLOSE_TO_RUNNER_UP"
        return Identification(
            "" if reason else winner,
            reason,
            candidates[:top_k],
            threshold,
            probe.low_confidence,
            probe.speech_seconds,
        )

    def verify(self, collection: str, speaker_id: str, query: Query, method: str = "") -> Verification:
        """ACCEPT when the query scores at or above the threshold against the claimed speaker."""
        rules.check_speaker_id(speaker_id)
        options = self._options(method)
        target = self._speaker_collection(collection)
        utterances = self._utterances(collection, (speaker_id,))
        if not utterances:
            raise errors.NotFound(
                f"speaker {speaker_id!r} is not enrolled in collection {collection!r}", "SPEAKER_NOT_FOUND"
            )
        probe = self._probe(target, query)
        best = self._best_by_speaker(collection, probe.vector)
        used = scoring.effective_method(options, len(best | {speaker_id: 0.0}))
        score = self._scores(
            collection, probe.vector, [speaker_id], best, dataclasses.replace(options, method=used), utterances
        )
        threshold = self._threshold(target, used)
        value = score[speaker_id]
        return Verification(value >= threshold.value, value, threshold, probe.low_confidence, probe.speech_seconds)

    def calibrate(self, collection: str, target_false_accept_rate: float = 0.0, method: str = "") -> tuple:
        """Leave-one-out trials from the collection's enrollments; stores and returns the calibration and the
        number of speakers it used."""
        target_rate = target_false_accept_rate or scoring.DEFAULT_FALSE_ACCEPT_RATE
        errors.require(
            0 < target_rate < 1,
            f"target_false_accept_rate must be between 0 and 1, e.g. 0.01; got {target_rate}",
            "INVALID_TARGET_RATE",
        )
        options = self._options(method)
        self._speaker_collection(collection)
        clips = self._utterances(collection, ())
        speakers = sorted({clip.labels.speaker for clip in clips})
        if len(speakers) > scoring.MAX_CALIBRATION_SPEAKERS:
            keep = set(np.random.default_rng(0).choice(speakers, scoring.MAX_CALIBRATION_SPEAKERS, replace=False))
            clips = [clip for clip in clips if clip.labels.speaker in keep]
            speakers = sorted(keep)
        if len(speakers) < 2:
            raise errors.FailedPrecondition(
                f"calibration needs at least 2 enrolled speakers; collection {collection!r} has {len(speakers)}",
                "TOO_FEW_SPEAKERS",
            )
        vectors = np.stack(list(self._pool.map(lambda clip: self._clip_vector(collection, clip.id), clips)))
        used = scoring.effective_method(options, len(speakers))
        positives, negatives, open_set = scoring.calibration_trials(
            vectors, [clip.labels.speaker for clip in clips], dataclasses.replace(options, method=used)
        )
        trials = Trials(positives, negatives)
        at_target, equal = trials.at_false_positive_rate(target_rate), trials.equal_error()
        open_at_target = Trials([], open_set).at_false_positive_rate(target_rate)
        calibration = domain.Calibration(
            threshold=at_target.threshold,
            target_false_positive_rate=target_rate,
            false_positive_rate=at_target.false_positive_rate,
            false_negative_rate=at_target.false_negative_rate,
            equal_error_rate=equal.false_positive_rate,
            equal_error_threshold=equal.threshold,
            positive_trials=len(positives),
            negative_trials=len(negatives),
            scoring=used,
            calibrate_time=datetime.now(UTC),
            open_set_threshold=open_at_target.threshold,
            open_set_false_positive_rate=open_at_target.false_positive_rate,
            open_set_trials=len(open_set),
        )
        stored = self.calibrations.set_calibration(collection, calibration)
        return stored.calibration, len(speakers)

    # Scoring

    def _options(self, method: str) -> scoring.ScoringOptions:
        if not method:
            return self.settings.scoring_options
        return dataclasses.replace(
            self.settings.scoring_options, method=rules.choice(method, rules.SCORINGS, "scoring")
        )

    def _probe(self, collection: domain.Collection, query: Query) -> _Probe:
        if query.audio is not None:
            self.gateway._check_audio_size(query.audio)
            info, segments = self.gateway.embedder.embed(collection.model, query.audio, collection.segments)
            vector = scoring.unit(np.mean([np.asarray(s.vector, dtype=np.float64) for s in segments], axis=0))
            low = info.speech_seconds < self.settings.low_confidence_seconds
            return _Probe(vector, info.speech_seconds, low)
        if query.vector is not None:
            if len(query.vector) != collection.dimension:
                raise errors.InvalidArgument(
                    f"the query vector has {len(query.vector)} values; collection {collection.name} needs "
                    f"{collection.dimension}",
                    "DIMENSION_MISMATCH",
                )
            vector = np.asarray(query.vector, dtype=np.float64)
            errors.require(bool(np.all(np.isfinite(vector))), "the query vector has a non-finite value", "BAD_VECTOR")
            return _Probe(scoring.unit(vector), 0.0, False)
        raise errors.InvalidArgument("set one query: audio or vector", "QUERY_REQUIRED")

    def _best_by_speaker(self, collection: str, vector: np.ndarray) -> dict[str, float]:
        """The index's top clips for `vector`, grouped by speaker: each speaker's best clip score."""
        return self._group(collection, self.gateway.index.search(collection, [vector.tolist()], self._hits(), *_ALL))[0]

    def _hits(self) -> int:
        return min(rules.MAX_TOP_K, self.settings.search_hits)

    def _group(self, collection: str, results: list[list[domain.Hit]]) -> list[dict[str, float]]:
        clip_ids = list({hit.clip_id for hits in results for hit in hits})
        clips = [
            clip
            for first in range(0, len(clip_ids), BATCH_IDS)
            for clip in self.gateway.catalog.batch_get_clips(clip_ids[first : first + BATCH_IDS])
        ]
        owners = {
            clip.id: clip.labels.speaker
            for clip in clips
            if clip.state is domain.ClipState.READY and clip.labels.speaker and clip.collection == collection
        }
        grouped = []
        for hits in results:
            best: dict[str, float] = {}
            for hit in hits:
                owner = owners.get(hit.clip_id)
                if owner is not None and hit.score > best.get(owner, -np.inf):
                    best[owner] = hit.score
            grouped.append(best)
        return grouped

    def _scores(
        self,
        collection: str,
        vector: np.ndarray,
        speakers: list[str],
        best: dict[str, float],
        options: scoring.ScoringOptions,
        clips: list[domain.Clip] | None = None,
    ) -> dict[str, float]:
        """Each speaker's score for the query, from its enrollment vectors (AS_NORM: normalised by both cohorts);
        `clips`: the speakers' utterances, when the caller has them already."""
        clips = clips if clips is not None else self._utterances(collection, tuple(speakers))
        vectors = dict(
            zip(
                [c.id for c in clips], self._pool.map(lambda c: self._clip_vector(collection, c.id), clips), strict=True
            )
        )
        enrolled = {
            name: np.stack([vectors[c.id] for c in clips if c.labels.speaker == name])
            for name in speakers
            if any(c.labels.speaker == name for c in clips)
        }
        raw = {name: scoring.raw_score(options.method, vector, rows, options.top_k) for name, rows in enrolled.items()}
        if options.method != "AS_NORM":
            return raw
        names = list(raw)
        centroids = [scoring.unit(enrolled[name].sum(axis=0)).tolist() for name in names]
        cohorts = self._group(collection, self.gateway.index.search(collection, centroids, self._hits(), *_ALL))
        scores = {}
        for name, cohort in zip(names, cohorts, strict=True):  # cohort: speaker -> best score
            test = scoring.cohort_stats([s for other, s in best.items() if other != name], options.cohort_size)
            enroll = scoring.cohort_stats([s for other, s in cohort.items() if other != name], options.cohort_size)
            scores[name] = scoring.as_norm(raw[name], test, enroll)
        return scores

    def _clip_vector(self, collection: str, clip_id: int) -> np.ndarray:
        segments = self.gateway.index.get_vectors(collection, clip_id)
        return scoring.unit(np.mean([np.asarray(s.vector, dtype=np.float64) for s in segments], axis=0))

    def _threshold(self, collection: domain.Collection, method: str, open_set: bool = False) -> Threshold:
        """The collection's calibrated threshold for this scoring (1:N: the open-set one), else the model's default."""
        calibration = collection.calibration
        if calibration is not None and calibration.scoring == method and (calibration.open_set_trials or not open_set):
            value = calibration.open_set_threshold if open_set else calibration.threshold
            return Threshold(value, "CALIBRATED", calibration.target_false_positive_rate, method, open_set)
        default = scoring.DEFAULT_THRESHOLDS.get((collection.model, method))
        if default is None:
            raise errors.FailedPrecondition(
                f"model {collection.model} has no default threshold for {method} scoring; run CalibrateSpeakers on "
                f"collection {collection.name!r} first",
                "NOT_CALIBRATED",
            )
        return Threshold(default[open_set], "MODEL_DEFAULT", scoring.DEFAULT_FALSE_ACCEPT_RATE, method, open_set)


# search() arguments after top_k: no filter, nothing excluded.
_ALL = (domain.SearchFilter(), ())
