"""Retrieval metrics over ranked lists of item ids (pure Python)."""

from collections.abc import Sequence


def precision_at(ranked: Sequence, relevant: set, k: int) -> float:
    """The share of the first k results that are relevant (a list shorter than k counts its gaps as misses)."""
    return sum(1 for item in ranked[:k] if item in relevant) / k


def average_precision(ranked: Sequence, relevant: set) -> float:
    """Mean of the precision at each relevant item's rank, over ALL relevant items (those never ranked add 0)."""
    if not relevant:
        return 0.0
    found, total = 0, 0.0
    for rank, item in enumerate(ranked, start=1):
        if item in relevant:
            found += 1
            total += found / rank
    return total / len(relevant)


def hit_at(ranked: Sequence, target, k: int) -> float:
    """1.0 when `target` is among the first k results, else 0.0."""
    return 1.0 if target in ranked[:k] else 0.0
