"""Error rates of a score threshold over positive (should match) and negative trials: the one place they are
computed, for calibration (speakers, recordings) and for evaluation. Higher scores mean "more alike"; a score at or
above the threshold is a match."""

import bisect
import dataclasses
import math
from collections.abc import Sequence


@dataclasses.dataclass(frozen=True)
class Rates:
    threshold: float
    false_positive_rate: float
    false_negative_rate: float


class Trials:
    """Scores of positive and negative trials, sorted once so each rate is a binary search."""

    def __init__(self, positives: Sequence[float], negatives: Sequence[float]) -> None:
        if not negatives:
            raise ValueError("error rates need at least one negative trial")
        self.positives = sorted(positives)
        self.negatives = sorted(negatives)

    def at(self, threshold: float) -> Rates:
        """The rates when scores >= threshold match."""
        false_positives = len(self.negatives) - bisect.bisect_left(self.negatives, threshold)
        false_negatives = bisect.bisect_left(self.positives, threshold)
        return Rates(threshold, false_positives / len(self.negatives), _share(false_negatives, len(self.positives)))

    def at_false_positive_rate(self, target: float) -> Rates:
        """The lowest threshold whose false-positive rate is at most `target` (just above the negative score that
        would exceed it): the fewest false negatives the target allows."""
        allowed = math.floor(target * len(self.negatives) + 1e-9)
        if allowed >= len(self.negatives):
            return self.at(self.negatives[0])
        # Scores above the (allowed+1)-th highest negative: at most `allowed` negatives pass.
        boundary = self.negatives[len(self.negatives) - 1 - allowed]
        return self.at(math.nextafter(boundary, math.inf))

    def equal_error(self) -> Rates:
        """The threshold where false positives and false negatives are closest; its rate is their mean."""
        if not self.positives:
            return Rates(0.0, 0.0, 0.0)
        best = min((self.at(score) for score in self._candidates()), key=_gap)
        mean = (best.false_positive_rate + best.false_negative_rate) / 2
        return Rates(best.threshold, mean, mean)

    def min_dcf(self, p_target: float = 0.01, cost_miss: float = 1.0, cost_false_alarm: float = 1.0) -> float:
        """The minimum normalised detection cost over all thresholds (NIST SRE)."""
        if not self.positives:
            return 0.0
        norm = min(cost_miss * p_target, cost_false_alarm * (1 - p_target))
        return min(
            (cost_miss * p_target * r.false_negative_rate + cost_false_alarm * (1 - p_target) * r.false_positive_rate)
            / norm
            for r in (self.at(score) for score in self._candidates())
        )

    def curve(self) -> list[Rates]:
        """Rates at every distinct score, for a DET curve."""
        return [self.at(score) for score in self._candidates()]

    def _candidates(self) -> list[float]:
        return sorted({*self.positives, *self.negatives, math.inf})


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0


def _gap(rates: Rates) -> float:
    return abs(rates.false_positive_rate - rates.false_negative_rate)
