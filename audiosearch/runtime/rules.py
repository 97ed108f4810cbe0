"""Rules that more than one service checks (labels, filters, top_k, segments): written once here, so the services
cannot drift apart and a request is refused by the first service that sees it, before anything is written."""

import dataclasses
import math
import re

from audiosearch.gateway.v1 import speaker_service_pb2 as speaker_pb2
from audiosearch.runtime import domain
from audiosearch.sdk.errors import require
from audiosearch.type.v1 import types_pb2

# Milvus VARCHAR lengths count UTF-8 bytes, so labels are limited in bytes everywhere (about 85 CJK characters).
MAX_LABEL_BYTES = 256
MAX_TAGS = 32
MAX_FILTER_VALUES = 256
MAX_TOP_K = 1000
# Query vectors in one search call; the gateway searches longer queries (more windows) in batches of this size.
MAX_QUERY_VECTORS = 100
# The choices are the contract's enums (audiosearch.type.v1 Metric and IndexType), by name without the prefix.
METRICS = tuple(name.removeprefix("METRIC_") for name in types_pb2.Metric.keys()[1:])
INDEX_TYPES = tuple(name.removeprefix("INDEX_TYPE_") for name in types_pb2.IndexType.keys()[1:])
PURPOSES = tuple(name.removeprefix("PURPOSE_") for name in types_pb2.Purpose.keys()[1:])
SCORINGS = tuple(name.removeprefix("SCORING_") for name in speaker_pb2.Scoring.keys()[1:])
# A speaker id is stored as the clips' speaker label, so it has the label's limit in bytes.
MAX_SPEAKER_ID_BYTES = MAX_LABEL_BYTES
# Every window is a vector: a hop below this would turn one clip into tens of thousands of vectors.
MIN_HOP_SECONDS = 0.1
# Milvus's collection name rules, so a collection's name can be its vector collection's name too.
_COLLECTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
# Control characters cannot be written into a Milvus filter by both Milvus Lite and the server: labels are plain text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_collection_name(name: str) -> None:
    require(
        bool(_COLLECTION_NAME.fullmatch(name)),
        f"collection name {name!r} is not valid: use 1-64 letters, digits or underscores, starting with a letter",
        "INVALID_COLLECTION_NAME",
    )


# A rebuild's vectors until its switch (issue #16): a name that no collection can have, since those start with a letter.
_REBUILD_VECTORS = re.compile(r"_rebuild(?P<job>[0-9]{1,19})_(?P<collection>.*)")


def rebuild_vectors_name(collection: str, job_id: int) -> str:
    """The vector collection that rebuild job `job_id` of `collection` fills."""
    return f"_rebuild{job_id}_{collection}"


def rebuilt_collection(name: str) -> str | None:
    """The collection whose rebuild fills the vectors named `name`; None when `name` is not a rebuild's."""
    rebuild = _REBUILD_VECTORS.fullmatch(name)
    return rebuild.group("collection") if rebuild else None


def check_vector_collection_name(name: str) -> None:
    """A name the search service accepts: a collection's, or a rebuild's vectors (rebuild_vectors_name)."""
    check_collection_name(rebuilt_collection(name) or name)


def check_text_value(value: str, what: str) -> None:
    """A label or a filter value: plain text of at most MAX_LABEL_BYTES bytes."""
    size = len(value.encode("utf-8", "surrogatepass"))
    require(
        size <= MAX_LABEL_BYTES,
        f"{what} is {size} bytes in UTF-8; use at most {MAX_LABEL_BYTES} bytes (about {MAX_LABEL_BYTES // 3} "
        "CJK characters)",
        "LABEL_TOO_LONG",
    )
    require(
        not _CONTROL.search(value),
        f"{what} contains a control character ({_CONTROL.search(value)!r}); labels are plain text",
        "LABEL_CONTROL_CHARACTER",
    )


def check_speaker_id(speaker_id: str) -> None:
    """A client-chosen speaker id (a customer or employee id): 1 to MAX_SPEAKER_ID_BYTES bytes of plain text."""
    require(bool(speaker_id), "speaker_id is required: the id you give the speaker", "SPEAKER_ID_REQUIRED")
    size = len(speaker_id.encode("utf-8", "surrogatepass"))
    require(
        size <= MAX_SPEAKER_ID_BYTES,
        f"speaker_id is {size} bytes in UTF-8; use at most {MAX_SPEAKER_ID_BYTES} bytes",
        "SPEAKER_ID_TOO_LONG",
    )
    require(
        not _CONTROL.search(speaker_id),
        f"speaker_id contains a control character ({_CONTROL.search(speaker_id)!r}); use plain text",
        "SPEAKER_ID_CONTROL_CHARACTER",
    )


def valid_labels(labels: domain.Labels) -> domain.Labels:
    """The labels with repeated tags removed (a repeated tag means nothing more); InvalidArgument if any breaks
    a rule."""
    check_text_value(labels.speaker, "labels.speaker")
    check_text_value(labels.sound_class, "labels.sound_class")
    tags = tuple(dict.fromkeys(labels.tags))
    require(len(tags) <= MAX_TAGS, f"{len(tags)} tags given; use at most {MAX_TAGS}", "TOO_MANY_TAGS")
    for tag in tags:
        require(bool(tag), "a tag is empty; leave it out", "EMPTY_TAG")
        check_text_value(tag, "a tag")
    return dataclasses.replace(labels, tags=tags)


def check_filter(search_filter: domain.SearchFilter) -> None:
    """The same filter is valid for searching and for listing, or for neither."""
    for name in ("speakers", "sound_classes", "tags_any"):
        values = getattr(search_filter, name)
        require(
            len(values) <= MAX_FILTER_VALUES,
            f"filter.{name} has {len(values)} values; use at most {MAX_FILTER_VALUES}",
            "TOO_MANY_FILTER_VALUES",
        )
        for value in values:
            check_text_value(value, f"a filter.{name} value")
    low, high = search_filter.min_duration_seconds, search_filter.max_duration_seconds
    require(
        math.isfinite(low) and math.isfinite(high) and low >= 0 and high >= 0,
        f"filter durations must be finite numbers of seconds >= 0 (0 means no bound), got {low} and {high}",
        "INVALID_FILTER",
    )
    require(
        high == 0 or low <= high,
        f"filter.min_duration_seconds {low} is above max_duration_seconds {high}; no clip can match",
        "INVALID_FILTER",
    )


def choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    """`value` upper-cased, if it is one of `allowed` (METRICS, INDEX_TYPES); reason INVALID_<WHAT>."""
    upper = value.upper()
    require(upper in allowed, f"{what} must be one of {', '.join(allowed)}; got {value!r}", f"INVALID_{what.upper()}")
    return upper


def check_top_k(top_k: int) -> None:
    require(1 <= top_k <= MAX_TOP_K, f"top_k must be between 1 and {MAX_TOP_K}, got {top_k}", "INVALID_TOP_K")


def check_segments(segments: domain.SegmentOptions, min_window_seconds: float = 0.0) -> None:
    """Windows a collection cuts its clips into: none (both 0), or a window the model can embed and a hop of at
    least MIN_HOP_SECONDS that does not skip audio."""
    window, hop = segments.window_seconds, segments.hop_seconds
    require(
        math.isfinite(window) and math.isfinite(hop) and window >= 0 and hop >= 0,
        f"segments.window_seconds and hop_seconds must be finite seconds >= 0, got {window} and {hop}",
        "INVALID_SEGMENTS",
    )
    if window == 0:
        require(
            hop == 0, "segments.hop_seconds is set but window_seconds is 0; set both, or neither", "INVALID_SEGMENTS"
        )
        return
    require(
        window >= min_window_seconds,
        f"segments.window_seconds {window:g} is below the model's minimum of {min_window_seconds:g} s",
        "INVALID_SEGMENTS",
    )
    require(
        MIN_HOP_SECONDS <= hop <= window,
        f"segments.hop_seconds must be {MIN_HOP_SECONDS:g}..window_seconds ({window:g}), got {hop:g}",
        "INVALID_SEGMENTS",
    )


def time_range(start_seconds: float, end_seconds: float | None, duration_seconds: float) -> tuple[float, float]:
    """A part of a clip as (start, end): 0 <= start < end and start before the clip's end; an end past the clip's
    end, or None, is the clip's end."""
    end = duration_seconds if end_seconds is None else end_seconds
    require(
        math.isfinite(start_seconds) and 0 <= start_seconds < duration_seconds,
        f"start_seconds {start_seconds:g} is not within the clip (0 to {duration_seconds:g} s)",
        "INVALID_TIME_RANGE",
    )
    require(
        math.isfinite(end) and start_seconds < end,
        f"end_seconds {end:g} is not after start_seconds {start_seconds:g}: send start_seconds < end_seconds",
        "INVALID_TIME_RANGE",
    )
    return start_seconds, min(end, duration_seconds)
