"""Recordings searches: the query's window matches voted into one aligned match per clip, and MATCH or NO_MATCH.

A copy of a recording matches window for window at one offset (clip time = query time + offset); a recording that
is not in the library matches each query window somewhere else. So each query window votes, per clip, for the offset
of its best window in that clip, and a clip scores by the windows that agree. The query is cut at a finer hop than
the clip was, so the agreeing windows' offsets straddle the true one and their mean lands below the hop
(docs/quality.md, Recordings, measures it).
"""

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, replace

from audiosearch.runtime import domain, rules

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
