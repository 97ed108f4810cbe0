"""Speakers of a speakers-purpose collection (issue #12; decisions in docs/speakers.md).

A speaker is the set of the collection's READY clips whose labels.speaker is its id: enrolling is ingesting (the
same dedupe, request_id and undo machinery), deleting a speaker deletes its clips. Each speaker also has a row in
the search service's speaker index: the centroid of its utterances and its AS-norm enrollment cohort statistics,
rewritten whenever its utterances change and refreshed by calibration. Identification is one search of that index
(the top speakers and the test cohort at once); verification and calibration score the same way, so one threshold
means the same everywhere.
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
from gateway.locks import NamedLocks

LIST_PAGE = 1000
# Speaker rows per speaker-index call (the search service takes up to 10,000 ids).
ROWS_PER_CALL = 1000
MAX_CANDIDATES = 20


class Calibrations(Protocol):
    def set_calibration(self, name: str, calibration: domain.Calibration | None) -> domain.Collection: ...


@dataclasses.dataclass(frozen=True)
class SpeakerSettings:
    min_speech_seconds: float = 2.0
    low_confidence_seconds: float = 3.0
    # Speakers the speaker index returns per identification: at least the AS-norm cohort and the candidates.
    search_hits: int = 0
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
        # Speaker-row writes of one collection, so that a row read to refresh its statistics is not written back
        # over a newer one (in this gateway; across gateways, calibration refreshes every row).
        self._rows = NamedLocks()
        # Every READY or deleted clip with a speaker label, whichever RPC made it (IngestAudio, DeleteClip too).
        gateway.clip_listeners.append(self._clip_changed)

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
        if result.duplicate:  # the row was written by the call that added it; again, in case that call failed after
            self._write_row(collection, speaker_id)
        return self.get_speaker(collection, speaker_id), result.clip, result.duplicate

    def _clip_changed(self, clip: domain.Clip) -> None:
        if clip.labels.speaker and self.gateway.catalog.get_collection(clip.collection).purpose == "SPEAKERS":
            self._write_row(clip.collection, clip.labels.speaker)

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
        self._write_row(collection, speaker_id)
        return deleted

    def _write_row(self, collection: str, speaker_id: str, neighbours: bool = True) -> None:
        """Make the speaker's row in the speaker index match its READY utterances (their centroid and its cohort
        statistics; no row when it has none), and refresh its `neighbours`' statistics.

        The utterances are read again after the write: an enrollment or deletion of the same speaker that ran
        meanwhile (here or in another gateway) may have written a row from another set, so this writes again until
        the set it wrote from is the set that stands. The last writer reads last, so the row ends as the records."""
        written: list[int] | None = None
        while True:
            utterances = self._utterances(collection, (speaker_id,))
            ids = sorted(clip.id for clip in utterances)
            if ids == written:
                return
            if utterances:
                centroid = scoring.unit(np.sum(self._clip_vectors(collection, utterances), axis=0)).tolist()
                [hits] = self.gateway.index.search_speakers(collection, [centroid], self._hits())
                row = domain.SpeakerRow(speaker_id, centroid, *self._cohort(speaker_id, hits))
                with self._rows.hold(collection):
                    self.gateway.index.upsert_speakers(collection, [row])
                if neighbours:
                    self._refresh_neighbours(collection, speaker_id, hits)
            else:
                with self._rows.hold(collection):
                    gone = self.gateway.index.get_speakers(collection, [speaker_id])
                    self.gateway.index.delete_speakers(collection, [speaker_id])
                if gone and neighbours:  # the speakers it was near lose it from their cohorts
                    [hits] = self.gateway.index.search_speakers(collection, [gone[0].vector], self._hits())
                    self._refresh_neighbours(collection, speaker_id, hits)
            written = ids

    def _cohort(self, speaker_id: str, hits: list[domain.SpeakerHit]) -> tuple[float, float]:
        """A speaker's enrollment cohort statistics from its centroid's hits in the speaker index."""
        others = [hit.score for hit in hits if hit.speaker_id != speaker_id]
        return scoring.cohort_stats(others, self.settings.scoring_options.cohort_size)

    def _refresh_neighbours(self, collection: str, speaker_id: str, hits: list[domain.SpeakerHit]) -> None:
        """The cohort statistics of the speakers nearest a new, changed or deleted one (`hits`: its centroid's), whose
        cohorts it may have entered or left (all of them while the collection is smaller than a cohort). A neighbour
        deleted meanwhile, its row read before its deletion, is deleted again: no row outlives its utterances."""
        others = [hit.speaker_id for hit in hits if hit.speaker_id != speaker_id]
        speakers = others[: self.settings.scoring_options.cohort_size]
        if not speakers:
            return
        with self._rows.hold(collection):
            rows = self.gateway.index.get_speakers(collection, speakers)
            fresh = []
            for first in range(0, len(rows), rules.MAX_QUERY_VECTORS):
                batch = rows[first : first + rules.MAX_QUERY_VECTORS]
                found = self.gateway.index.search_speakers(collection, [row.vector for row in batch], self._hits())
                fresh += [
                    domain.SpeakerRow(row.speaker_id, row.vector, *self._cohort(row.speaker_id, hits))
                    for row, hits in zip(batch, found, strict=True)
                ]
            self.gateway.index.upsert_speakers(collection, fresh)
        self._forget_deleted(collection, fresh, self._utterances(collection, tuple(speakers)))

    def _rows_of(self, collection: str, speakers: list[str]) -> list[domain.SpeakerRow]:
        return [
            row
            for first in range(0, len(speakers), ROWS_PER_CALL)
            for row in self.gateway.index.get_speakers(collection, speakers[first : first + ROWS_PER_CALL])
        ]

    def _forget_deleted(self, collection: str, written: list[domain.SpeakerRow], utterances: list[domain.Clip]) -> None:
        """Rows just rewritten from what the index held, read again against the records (`utterances`, read after the
        write): a speaker deleted meanwhile, its row read before its deletion, loses it again."""
        enrolled = {clip.labels.speaker for clip in utterances}
        gone = [row.speaker_id for row in written if row.speaker_id not in enrolled]
        if gone:
            with self._rows.hold(collection):
                self.gateway.index.delete_speakers(collection, gone)

    def _utterances(self, collection: str, speakers: tuple[str, ...], ready_only: bool = True) -> list[domain.Clip]:
        found, token = [], ""
        while True:
            clips, token = self.gateway.catalog.list_clips(
                collection, LIST_PAGE, token, domain.SearchFilter(speakers=speakers)
            )
            found += [c for c in clips if c.labels.speaker and (c.state is domain.ClipState.READY or not ready_only)]
            if not token:
                return found

    def _speaker_collection(self, name: str, recent: bool = False) -> domain.Collection:
        """The record of a speakers collection; `recent`: as read within the last seconds (the decisions, whose
        latency counts), else read now (enrollment, deletion and calibration, which write)."""
        collection = self.gateway.recent_collections.get(name) if recent else self.gateway.catalog.get_collection(name)
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
        target = self._speaker_collection(collection, recent=True)
        probe = self._probe(target, query)
        [hits] = self.gateway.index.search_speakers(collection, [probe.vector.tolist()], self._hits(top_k))
        if not hits:
            return Identification("", "NO_SPEAKERS", [], None, probe.low_confidence, probe.speech_seconds)
        used = scoring.effective_method(options, len(hits))
        # Scores from the hits alone (CENTROID, AS_NORM) are had for every speaker returned; the others read vectors.
        ranked = hits if used in ("CENTROID", "AS_NORM") else hits[: max(top_k, 2)]
        scores = self._scores(collection, probe.vector, ranked, hits, dataclasses.replace(options, method=used))
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
        target = self._speaker_collection(collection, recent=True)
        rows = self.gateway.index.get_speakers(collection, [speaker_id])
        if not rows:
            raise errors.NotFound(
                f"speaker {speaker_id!r} is not enrolled in collection {collection!r}", "SPEAKER_NOT_FOUND"
            )
        probe = self._probe(target, query)
        [hits] = self.gateway.index.search_speakers(collection, [probe.vector.tolist()], self._hits())
        claimed = domain.SpeakerHit(
            speaker_id, float(probe.vector @ np.asarray(rows[0].vector)), rows[0].cohort_mean, rows[0].cohort_std
        )
        used = scoring.effective_method(options, len({hit.speaker_id for hit in hits} | {speaker_id}))
        score = self._scores(collection, probe.vector, [claimed], hits, dataclasses.replace(options, method=used))
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
        clips = everyone = self._utterances(collection, ())
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
        vectors = np.stack(self._clip_vectors(collection, clips))
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
        self.gateway.recent_collections.forget(collection)
        self._refresh_cohorts(collection, sorted({clip.labels.speaker for clip in everyone}))
        return stored.calibration, len(speakers)

    def _refresh_cohorts(self, collection: str, speakers: list[str]) -> None:
        """Every speaker's enrollment cohort statistics against all the others as they are now (a row written at
        enrollment saw only the speakers enrolled before it)."""
        present = {row.speaker_id for row in self._rows_of(collection, speakers)}
        for name in speakers:
            if name not in present:  # enrolled by a folder import, or its row write failed
                self._write_row(collection, name, neighbours=False)
        with self._rows.hold(collection):
            rows = self._rows_of(collection, speakers)
            if not rows:
                return
            centroids = np.stack([np.asarray(row.vector, dtype=np.float64) for row in rows])
            means, stds = scoring.enrollment_cohorts(centroids, self.settings.scoring_options.cohort_size)
            fresh = [
                domain.SpeakerRow(row.speaker_id, row.vector, float(mean), float(std))
                for row, mean, std in zip(rows, means, stds, strict=True)
            ]
            for first in range(0, len(fresh), ROWS_PER_CALL):
                self.gateway.index.upsert_speakers(collection, fresh[first : first + ROWS_PER_CALL])
        self._forget_deleted(collection, fresh, self._utterances(collection, ()))

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

    def _hits(self, top_k: int = 0) -> int:
        options = self.settings.scoring_options
        return min(rules.MAX_TOP_K, max(self.settings.search_hits, options.cohort_size + 1, top_k))

    def _scores(
        self,
        collection: str,
        vector: np.ndarray,
        candidates: list[domain.SpeakerHit],
        hits: list[domain.SpeakerHit],
        options: scoring.ScoringOptions,
    ) -> dict[str, float]:
        """Each candidate's score for the query. CENTROID is the speaker index's score; AS_NORM normalises it by the
        candidate's stored enrollment cohort and by the query's test cohort (its scores against the other speakers
        the index returned); MAX and TOP_K_MEAN read the candidates' utterance vectors."""
        if options.method == "AS_NORM":
            scores = [hit.score for hit in hits]
            loo = scoring.leave_one_out_cohorts(scores, options.cohort_size)
            cohorts = dict(zip([hit.speaker_id for hit in hits], loo, strict=True))
            return {
                hit.speaker_id: scoring.as_norm(
                    hit.score,
                    # A claimed speaker the index did not return: its test cohort is every speaker it did.
                    cohorts.get(hit.speaker_id) or scoring.cohort_stats(scores, options.cohort_size),
                    (hit.cohort_mean, hit.cohort_std),
                )
                for hit in candidates
            }
        if options.method == "CENTROID":
            return {hit.speaker_id: hit.score for hit in candidates}
        clips = self._utterances(collection, tuple(hit.speaker_id for hit in candidates))
        vectors = dict(zip([c.id for c in clips], self._clip_vectors(collection, clips), strict=True))
        return {
            hit.speaker_id: scoring.raw_score(
                options.method,
                vector,
                np.stack([vectors[c.id] for c in clips if c.labels.speaker == hit.speaker_id]),
                options.top_k,
            )
            for hit in candidates
            if any(c.labels.speaker == hit.speaker_id for c in clips)
        }

    def _clip_vectors(self, collection: str, clips: list[domain.Clip]) -> list[np.ndarray]:
        return list(self._pool.map(lambda clip: self._clip_vector(collection, clip.id), clips))

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
