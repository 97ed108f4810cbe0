"""Recordings searches: the query's window matches voted into one aligned match per clip, and MATCH or NO_MATCH.

A copy of a recording matches window for window at one offset (clip time = query time + offset); a recording that
is not in the library matches each query window somewhere else. So each query window votes, per clip, for the offset
of its best window in that clip, and a clip scores by the windows that agree. The query is cut at a finer hop than
the clip was, so the agreeing windows' offsets straddle the true one and their mean lands below the hop
(docs/quality.md, Recordings, measures it).
"""

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from audiosearch.runtime import domain, rules
from audiosearch.sdk import errors

# The models whose segmented collections are searched for copies (CreateCollection's RECORDINGS purpose).
RECORDING_MODELS = ("fingerprint",)
QUERY_HOP_DIVISION = 4
# A Calibration's `scoring` for thresholds on the aligned score below.
SCORING = "aligned_windows"
# Measured on held-out speech for FPR 1% (docs/quality.md, Recordings): the score most negatives stay below.
DEFAULT_THRESHOLDS = {"fingerprint": domain.MatchThreshold(score=0.58, source="DEFAULT", false_positive_rate=0.01)}


def is_recordings(collection: domain.Collection) -> bool:
    return collection.model in RECORDING_MODELS and collection.segments.enabled


def query_segments(segments: domain.SegmentOptions) -> domain.SegmentOptions:
    """How a query is cut: the collection's windows, at a finer hop (0.1 s for the 0.25-s default: its windows fall
    at five phases of the clip's hop, 0.05 s apart)."""
    hop = max(rules.MIN_HOP_SECONDS, segments.hop_seconds / QUERY_HOP_DIVISION)
    return replace(segments, hop_seconds=min(hop, segments.hop_seconds))


def threshold(collection: domain.Collection) -> domain.MatchThreshold | None:
    """The collection's calibrated threshold when it was measured with this scoring, else the model's default."""
    calibration = collection.calibration
    if calibration is not None and calibration.scoring == SCORING:
        return domain.MatchThreshold(calibration.threshold, "CALIBRATED", calibration.false_positive_rate)
    return DEFAULT_THRESHOLDS.get(collection.model)


def search_hit(
    clip: domain.Clip, score: float, alignment: domain.Alignment, threshold: domain.MatchThreshold | None
) -> domain.SearchHit:
    """The hit as users see it: the time range is the aligned one, ending where the clip does."""
    alignment = replace(alignment, clip_end_seconds=min(alignment.clip_end_seconds, clip.audio.duration_seconds))
    return domain.SearchHit(
        clip,
        score,
        alignment.clip_start_seconds,
        alignment.clip_end_seconds,
        alignment=alignment,
        decision=("MATCH" if score >= threshold.score else "NO_MATCH") if threshold else "",
    )


@dataclass(frozen=True)
class _Vote:
    offset: float
    score: float
    query_start: float
    query_end: float
    clip_start: float
    clip_end: float


class Aligner:
    """One aligned hit per clip, best first; fed batch by batch like gateway.core._RollUp, each batch's results
    following the query's windows (`spans`, their time ranges) in order."""

    def __init__(self, spans: Sequence[tuple[float, float]], hop_seconds: float) -> None:
        self._spans = spans
        self._next = 0
        # Two windows agree when their offsets are within one hop of each other: each is the true offset rounded to
        # the clip's nearest window.
        self._width = hop_seconds
        self._votes: dict[int, list[_Vote]] = {}
        self.alignments: dict[int, domain.Alignment] = {}

    def add(self, results: list[list[domain.Hit]]) -> None:
        for hits in results:
            query_start, query_end = self._spans[self._next]
            self._next += 1
            for hit in hits:
                vote = _Vote(
                    hit.start_seconds - query_start,
                    hit.score,
                    query_start,
                    query_end,
                    hit.start_seconds,
                    hit.end_seconds,
                )
                self._votes.setdefault(hit.clip_id, []).append(vote)

    def ranked(self, query_count: int) -> list[domain.Hit]:
        """The clips by score: the agreeing windows' similarities summed over all the query's windows."""
        count = max(1, query_count)
        hits = []
        for clip_id, votes in self._votes.items():
            agreeing = _agreeing(votes, self._width)
            score = sum(vote.score for vote in agreeing) / count
            alignment = _alignment(agreeing, count)
            self.alignments[clip_id] = alignment
            hits.append(domain.Hit(clip_id, score, alignment.clip_start_seconds, alignment.clip_end_seconds))
        return sorted(hits, key=lambda hit: hit.score, reverse=True)


def _agreeing(votes: list[_Vote], width: float) -> list[_Vote]:
    """The votes in the span of one `width` of offsets that holds the most similarity."""
    votes = sorted(votes, key=lambda vote: vote.offset)
    offsets = [vote.offset for vote in votes]
    cumulative = [0.0]
    for vote in votes:
        cumulative.append(cumulative[-1] + vote.score)
    best, best_total = (0, 1), -1.0
    for first, offset in enumerate(offsets):
        last = bisect.bisect_right(offsets, offset + width + 1e-6)
        if cumulative[last] - cumulative[first] > best_total:
            best, best_total = (first, last), cumulative[last] - cumulative[first]
    return votes[best[0] : best[1]]


def _alignment(agreeing: list[_Vote], query_windows: int) -> domain.Alignment:
    offset = sum(vote.offset for vote in agreeing) / len(agreeing)
    query_start = min(vote.query_start for vote in agreeing)
    query_end = max(vote.query_end for vote in agreeing)
    # The query's matching part moved into the clip (kept inside the clip by search_hit).
    return domain.Alignment(
        query_start_seconds=query_start,
        query_end_seconds=query_end,
        clip_start_seconds=max(0.0, query_start + offset),
        clip_end_seconds=query_end + offset,
        offset_seconds=offset,
        agreeing_windows=len(agreeing),
        query_windows=query_windows,
    )


DEFAULT_SNIPPET_SECONDS = 5.0
# Recordings a calibration draws its trials from: enough for a 0.2% rate, bounded in time.
MAX_CALIBRATION_CLIPS = 500


class _Index(Protocol):
    def get_vectors(self, collection: str, clip_id: int) -> list[domain.Segment]: ...
    def search(
        self,
        collection: str,
        queries: Sequence[domain.Vector],
        top_k: int,
        search_filter: domain.SearchFilter,
        exclude_clip_ids: Sequence[int],
        search_breadth: int = 0,
    ) -> list[list[domain.Hit]]: ...


def calibrate(
    collection: domain.Collection,
    clip_ids: Sequence[int],
    index: _Index,
    target_false_positive_rate: float,
    snippet_seconds: float,
) -> domain.Calibration:
    """The threshold at the target false-positive rate over negative trials: each recording's middle snippet (its
    stored windows) searched among the others, the best aligned score it gets where it has no copy."""
    if not is_recordings(collection):
        raise errors.FailedPrecondition(
            f"collection {collection.name} is not a recordings collection (model {', '.join(RECORDING_MODELS)} with "
            "windows): calibrate its kind of search instead",
            "NOT_RECORDINGS",
        )
    rate = target_false_positive_rate or 0.01
    if not 0 < rate < 1:
        raise errors.InvalidArgument(
            f"target_false_positive_rate must be between 0 and 1, got {rate}", "INVALID_FALSE_POSITIVE_RATE"
        )
    snippet = snippet_seconds or DEFAULT_SNIPPET_SECONDS
    if not snippet > 0:
        raise errors.InvalidArgument(f"snippet_seconds must be positive, got {snippet}", "INVALID_SNIPPET")
    needed = math.ceil(1 / rate)
    if len(clip_ids) < needed:
        raise errors.FailedPrecondition(
            f"a threshold at a {rate:g} false-positive rate needs at least {needed} recordings; collection "
            f"{collection.name} has {len(clip_ids)}: add recordings or ask for a higher rate",
            "TOO_FEW_RECORDINGS",
        )
    negatives = sorted((_negative_score(collection, clip_id, index, snippet) for clip_id in clip_ids), reverse=True)
    allowed = int(rate * len(negatives))
    threshold = negatives[allowed] + 1e-6
    return domain.Calibration(
        threshold=threshold,
        target_false_positive_rate=rate,
        false_positive_rate=sum(score >= threshold for score in negatives) / len(negatives),
        false_negative_rate=0.0,
        equal_error_rate=0.0,
        equal_error_threshold=0.0,
        positive_trials=0,
        negative_trials=len(negatives),
        scoring=SCORING,
        calibrate_time=datetime.now(UTC),
    )


def _negative_score(collection: domain.Collection, clip_id: int, index: _Index, snippet: float) -> float:
    segments = index.get_vectors(collection.name, clip_id)
    if not segments:
        return 0.0
    middle = (segments[0].start_seconds + segments[-1].end_seconds) / 2
    first = middle - snippet / 2
    chosen = [s for s in segments if s.start_seconds >= first and s.end_seconds <= first + snippet] or [
        min(segments, key=lambda s: abs((s.start_seconds + s.end_seconds) / 2 - middle))
    ]
    chosen = chosen[: rules.MAX_QUERY_VECTORS]
    aligner = Aligner([(s.start_seconds, s.end_seconds) for s in chosen], collection.segments.hop_seconds)
    # As many clips per window as a top-1 search asks for (gateway.core: top_k + 16).
    aligner.add(index.search(collection.name, [s.vector for s in chosen], 17, domain.SearchFilter(), [clip_id]))
    ranked = aligner.ranked(len(chosen))
    return ranked[0].score if ranked else 0.0
