"""One score per speaker from its enrollment vectors, online (a query against a few candidates) and in calibration
(every enrollment against every speaker, leave-one-out), computed the same way in both so a calibrated threshold
means the same thing as the score it is compared with. Vectors are L2-normalised, so a dot product is a cosine."""

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

# Measured with `audiosearch eval --task speakers` on LibriSpeech halves (docs/quality.md, Speakers): per (model,
# scoring), the 1:1 threshold at a 1% false-accept rate and the 1:N (open-set) one; used until a collection is
# calibrated. One enrollment per speaker there, so CENTROID, MAX and TOP_K_MEAN coincide.
DEFAULT_THRESHOLDS: Mapping[tuple[str, str], tuple[float, float]] = {
    ("ge2e", "CENTROID"): (0.7448, 0.8487),
    ("ge2e", "MAX"): (0.7448, 0.8487),
    ("ge2e", "TOP_K_MEAN"): (0.7448, 0.8487),
    ("ge2e", "AS_NORM"): (1.7586, 4.7743),
    ("logmel", "CENTROID"): (0.9839, 0.9928),
    ("logmel", "MAX"): (0.9839, 0.9928),
    ("logmel", "TOP_K_MEAN"): (0.9839, 0.9928),
    ("logmel", "AS_NORM"): (1.632, 3.6944),
}
DEFAULT_FALSE_ACCEPT_RATE = 0.01
# Calibration scores at most this many speakers (a random, seeded sample beyond): the trial matrix grows as its square.
MAX_CALIBRATION_SPEAKERS = 1000


@dataclasses.dataclass(frozen=True)
class ScoringOptions:
    method: str = "AS_NORM"
    # TOP_K_MEAN: how many of the best utterance scores are averaged.
    top_k: int = 2
    # AS_NORM: the size of each side's cohort (the other speakers scoring highest).
    cohort_size: int = 50
    # AS_NORM needs at least this many other speakers; with fewer, CENTROID is used (and says so).
    min_cohort: int = 10


def unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def raw_score(method: str, query: np.ndarray, enrollments: np.ndarray, top_k: int) -> float:
    """The score of `query` (d) against one speaker's enrollment vectors (n x d), before any normalisation."""
    if method == "MAX":
        return float(np.max(enrollments @ query))
    if method == "TOP_K_MEAN":
        return float(np.mean(np.sort(enrollments @ query)[-top_k:]))
    return float(query @ unit(enrollments.sum(axis=0)))  # CENTROID, and the base of AS_NORM


def cohort_stats(scores: Sequence[float], size: int) -> tuple[float, float]:
    """Mean and standard deviation of the `size` highest scores; (0, 1) for none (no cohort, no AS_NORM)."""
    top = np.sort(np.asarray(scores, dtype=np.float64))[::-1][:size]
    if not len(top):
        return 0.0, 1.0
    return float(top.mean()), max(float(top.std()), 1e-6)


def leave_one_out_cohorts(scores: Sequence[float], size: int) -> list[tuple[float, float]]:
    """For each score, cohort_stats of the others (the `size` highest of all scores but that one), in one pass:
    an identification scores every speaker the index returned against all the rest."""
    values = np.asarray(scores, dtype=np.float64)
    members = min(size, len(values) - 1)
    if members < 1:
        return [(0.0, 1.0)] * len(values)
    order = np.argsort(-values, kind="stable")
    ranked = values[order]
    # The top members + 1: a score among them leaves the other `members`; any lower one leaves the top `members`.
    top, among_top = ranked[: members + 1], np.arange(len(values)) <= members
    sums = np.where(among_top, top.sum() - ranked, top[:members].sum())
    squares = np.where(among_top, (top**2).sum() - ranked**2, (top[:members] ** 2).sum())
    means = sums / members
    stds = np.maximum(np.sqrt(np.maximum(squares / members - means**2, 0.0)), 1e-6)
    stats = np.empty((len(values), 2))
    stats[order] = np.stack([means, stds], axis=1)
    return [(float(mean), float(std)) for mean, std in stats]


def as_norm(raw: float, test_cohort: tuple[float, float], enroll_cohort: tuple[float, float]) -> float:
    """Symmetric adaptive normalisation: the mean of the score's z-values in the two cohorts."""
    return 0.5 * ((raw - enroll_cohort[0]) / enroll_cohort[1] + (raw - test_cohort[0]) / test_cohort[1])


def effective_method(options: ScoringOptions, speakers: int) -> str:
    """AS_NORM only with enough other speakers for a cohort."""
    if options.method == "AS_NORM" and speakers - 1 < options.min_cohort:
        return "CENTROID"
    return options.method


def calibration_trials(
    vectors: np.ndarray, owners: Sequence[str], options: ScoringOptions
) -> tuple[list[float], list[float], list[float]]:
    """Positive and negative trial scores from enrollments (U x d) and their speakers, leave-one-out: each utterance
    is a query against its own speaker's other utterances (positive, when there are any) and against every other
    speaker (negative), and its best negative is an open-set (1:N) trial. The query utterance is never part of any
    model or cohort it is scored against."""
    names = sorted(set(owners))
    owner = np.array([names.index(name) for name in owners])
    groups = [np.flatnonzero(owner == s) for s in range(len(names))]
    method = effective_method(options, len(names))
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)  # an utterance is never compared with itself
    sums = np.stack([vectors[group].sum(axis=0) for group in groups])
    raw = _raw_matrix(method, vectors, sims, sums, groups, owner, options.top_k)
    if method == "AS_NORM":
        # The test cohort: u's centroid scores (its own speaker's centroid leaves u out), as the speaker index sees u.
        raw = _as_norm_matrix(raw, raw, sums, options.cohort_size)
    positives, negatives, open_set = [], [], []
    for u in range(len(owners)):
        own = owner[u]
        if len(groups[own]) > 1:
            positives.append(float(raw[u, own]))
        others = [float(value) for s, value in enumerate(raw[u]) if s != own]
        negatives += others
        open_set.append(max(others))  # u as a speaker outside the collection: its best match among the rest
    return positives, negatives, open_set


def score_matrix(
    queries: np.ndarray, vectors: np.ndarray, owners: Sequence[str], options: ScoringOptions
) -> tuple[list[str], np.ndarray]:
    """The speakers (sorted ids) and scores[q, s] of queries that are not enrollments (Q x d) against every
    speaker of the enrollments (U x d, with their owners): what identify and verify compute, for all pairs at once
    (evaluation)."""
    names = sorted(set(owners))
    owner = np.array([names.index(name) for name in owners])
    groups = [np.flatnonzero(owner == s) for s in range(len(names))]
    method = effective_method(options, len(names))
    sims = queries @ vectors.T
    sums = np.stack([vectors[group].sum(axis=0) for group in groups])
    if method in ("MAX", "TOP_K_MEAN"):
        k = 1 if method == "MAX" else options.top_k
        raw = np.stack([np.sort(sims[:, group], axis=1)[:, -k:].mean(axis=1) for group in groups], axis=1)
    else:
        raw = queries @ np.stack([unit(total) for total in sums]).T
    if method == "AS_NORM":
        raw = _as_norm_matrix(raw, raw, sums, options.cohort_size)
    return names, raw


def _raw_matrix(method, vectors, sims, sums, groups, owner, top_k) -> np.ndarray:
    """raw[u, s]: query u against speaker s's model; for u's own speaker the model leaves u out."""
    if method in ("MAX", "TOP_K_MEAN"):
        k = 1 if method == "MAX" else top_k
        # -inf (u itself) sorts first, so the top k are the others; a speaker of one utterance leaves -inf for u.
        return np.stack([np.sort(sims[:, group], axis=1)[:, -k:].mean(axis=1) for group in groups], axis=1)
    raw = vectors @ np.stack([unit(total) for total in sums]).T
    for u, own in enumerate(owner):
        rest = sums[own] - vectors[u]
        raw[u, own] = float(vectors[u] @ unit(rest)) if len(groups[own]) > 1 else -np.inf
    return raw


def _as_norm_matrix(raw, centroid_scores, sums, size) -> np.ndarray:
    """AS-norm of every raw[u, s]: the test cohort is u's centroid scores against speakers other than s; the
    enrollment cohort is s's centroid against the other speakers' centroids (enrollment_cohorts)."""
    e_mean, e_std = enrollment_cohorts(np.stack([unit(total) for total in sums]), size)
    test_mean, test_std = _top_stats_without(centroid_scores, size)
    return 0.5 * ((raw - e_mean) / e_std + (raw - test_mean) / test_std)


def enrollment_cohorts(centroids: np.ndarray, size: int, block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Each speaker's AS-norm enrollment cohort statistics: mean and standard deviation of the `size` highest scores
    of its centroid against the other speakers' centroids (S x d), as cohort_stats computes them; in blocks of
    rows, so 10k speakers take 40 MB, not 800."""
    means, stds = np.empty(len(centroids)), np.empty(len(centroids))
    for first in range(0, len(centroids), block):
        scores = centroids[first : first + block] @ centroids.T
        rows = np.arange(len(scores))
        scores[rows, first + rows] = -np.inf  # a speaker is not in its own cohort
        keep = min(size, len(centroids) - 1)
        top = -np.partition(-scores, keep - 1, axis=1)[:, :keep] if keep > 0 else np.zeros((len(scores), 0))
        means[first : first + block] = top.mean(axis=1) if keep else 0.0
        stds[first : first + block] = np.maximum(top.std(axis=1), 1e-6) if keep else 1.0
    return means, stds


def _top_stats_without(scores: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """mean[r, c] and std[r, c] of the `size` highest finite scores of row r once column c is left out, as
    cohort_stats computes them."""
    rows = np.arange(scores.shape[0])
    order = np.argsort(-scores, axis=1)[:, : size + 1]
    top = np.take_along_axis(scores, order, axis=1)
    top = np.where(np.isfinite(top), top, np.nan)
    mean = np.repeat(_nanmean(top[:, :size])[:, None], scores.shape[1], axis=1)
    std = np.repeat(_nanstd(top[:, :size])[:, None], scores.shape[1], axis=1)
    for j in range(min(size, order.shape[1])):  # columns among the top `size`: the next score takes their place
        rest = np.delete(top, j, axis=1)
        mean[rows, order[:, j]] = _nanmean(rest)
        std[rows, order[:, j]] = _nanstd(rest)
    return mean, std


def _nanmean(values: np.ndarray) -> np.ndarray:
    return np.nanmean(values, axis=1)


def _nanstd(values: np.ndarray) -> np.ndarray:
    return np.maximum(np.nanstd(values, axis=1), 1e-6)
