"""SearchFilter -> Milvus boolean expression, built only from typed fields.

Milvus Lite has no filter_params templating, so values are written as literals here: strings double-quoted with
backslash and quote escaped, numbers formatted from int/float. A value never becomes syntax.
"""

from collections.abc import Sequence

from audiosearch.runtime import domain, rules

# rules.check_filter has refused control characters, so a backslash and a quote are all there is to escape.
_ESCAPES = {"\\": "\\\\", '"': '\\"'}


def string_literal(value: str) -> str:
    return '"' + "".join(_ESCAPES.get(char, char) for char in value) + '"'


def _string_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(string_literal(value) for value in values) + "]"


def expression(search_filter: domain.SearchFilter, exclude_clip_ids: Sequence[int] = ()) -> str:
    """The Milvus filter matching clips that satisfy every set field; "" matches all."""
    rules.check_filter(search_filter)
    clauses = []
    if search_filter.speakers:
        clauses.append(f"speaker in {_string_list(search_filter.speakers)}")
    if search_filter.sound_classes:
        clauses.append(f"sound_class in {_string_list(search_filter.sound_classes)}")
    if search_filter.tags_any:
        clauses.append(f"array_contains_any(tags, {_string_list(search_filter.tags_any)})")
    if search_filter.min_duration_seconds:
        clauses.append(f"duration_s >= {float(search_filter.min_duration_seconds)!r}")
    if search_filter.max_duration_seconds:
        clauses.append(f"duration_s <= {float(search_filter.max_duration_seconds)!r}")
    if exclude_clip_ids:
        clauses.append(f"clip_id not in [{', '.join(str(int(clip_id)) for clip_id in exclude_clip_ids)}]")
    return " and ".join(f"({clause})" for clause in clauses)
