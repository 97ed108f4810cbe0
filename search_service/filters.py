"""SearchFilter -> Milvus boolean expression, built only from typed fields.

Milvus Lite has no filter_params templating, so values are written as literals here: strings double-quoted with
backslash, quote and line breaks escaped, numbers formatted from int/float. A value never becomes syntax.
"""

import math
import re
from collections.abc import Sequence

from audiosearch.common import domain, errors

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Other control characters have no escape that Milvus Lite and Milvus server both read; labels never need them.
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def string_literal(value: str) -> str:
    if _UNWRITABLE.search(value):
        raise errors.InvalidArgument(
            f"filter value {value!r} contains a control character; labels are plain text", "INVALID_FILTER"
        )
    return '"' + "".join(_ESCAPES.get(char, char) for char in value) + '"'


def _string_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(string_literal(value) for value in values) + "]"


def _duration(value: float, name: str) -> float:
    if not math.isfinite(value) or value < 0:
        raise errors.InvalidArgument(f"{name} must be a finite number of seconds >= 0, got {value}", "INVALID_FILTER")
    return float(value)


def expression(search_filter: domain.SearchFilter, exclude_clip_ids: Sequence[int] = ()) -> str:
    """The Milvus filter matching clips that satisfy every set field; "" matches all."""
    clauses = []
    if search_filter.speakers:
        clauses.append(f"speaker in {_string_list(search_filter.speakers)}")
    if search_filter.sound_classes:
        clauses.append(f"sound_class in {_string_list(search_filter.sound_classes)}")
    if search_filter.tags_any:
        clauses.append(f"array_contains_any(tags, {_string_list(search_filter.tags_any)})")
    low = _duration(search_filter.min_duration_seconds, "min_duration_seconds")
    high = _duration(search_filter.max_duration_seconds, "max_duration_seconds")
    if low and high and low > high:
        raise errors.InvalidArgument(
            f"min_duration_seconds {low} is above max_duration_seconds {high}; no clip can match", "INVALID_FILTER"
        )
    if low:
        clauses.append(f"duration_s >= {low!r}")
    if high:
        clauses.append(f"duration_s <= {high!r}")
    if exclude_clip_ids:
        clauses.append(f"clip_id not in [{', '.join(str(int(clip_id)) for clip_id in exclude_clip_ids)}]")
    return " and ".join(f"({clause})" for clause in clauses)
