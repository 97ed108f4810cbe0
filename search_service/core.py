"""Search logic: validates requests, keeps collections consistent, rolls segment hits up to clips. No gRPC here."""

import math
import threading
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from audiosearch.runtime import domain, rules
from audiosearch.sdk import errors
from audiosearch.sdk.errors import require
from search_service import filters
from search_service.vectors import (
    MAX_RESULT_WINDOW,
    ClipVectors,
    CollectionSpec,
    SegmentHit,
    VectorCount,
    VectorStore,
    collection_not_found,
)

MAX_DIMENSION = 32768
MAX_SEGMENTS_PER_CLIP = 10_000
MAX_CLIP_IDS = 10_000
MAX_BREADTH = 4096
# Window hits fetched per clip wanted: a clip matching in several windows must not crowd out the next clips.
WINDOWS_PER_CLIP = 4


class SearchCore:
    def __init__(self, store: VectorStore) -> None:
        self.store = store
        # Creating and dropping are check-then-act on the store: concurrent calls for one name must not interleave.
        self._schema = threading.Lock()

    def ensure_collection(self, name: str, dimension: int, metric: str = "", index_type: str = "") -> bool:
        """Create the collection if absent (True when created). FAILED_PRECONDITION if it exists with another
        dimension or metric; an existing index type is kept."""
        rules.check_vector_collection_name(name)
        require(
            1 <= dimension <= MAX_DIMENSION,
            f"dimension must be 1..{MAX_DIMENSION}, got {dimension}",
            "INVALID_DIMENSION",
        )
        metric = rules.choice(metric or "COSINE", rules.METRICS, "metric")
        with self._schema:
            index_type = rules.choice(index_type or self._rebuilt_index_type(name), rules.INDEX_TYPES, "index_type")
            existing = self.store.describe(name)
            if existing is None:
                self.store.create(name, CollectionSpec(dimension, metric, index_type))
                return True
        if (existing.dimension, existing.metric) != (dimension, metric):
            raise errors.FailedPrecondition(
                f"collection {name!r} exists with dimension {existing.dimension} and metric {existing.metric}, "
                f"not {dimension} and {metric}; drop it first or use another name",
                "COLLECTION_SPEC_MISMATCH",
            )
        return False

    def _rebuilt_index_type(self, name: str) -> str:
        """A rebuild's vectors keep the index type of the collection they rebuild; HNSW otherwise."""
        rebuilt = rules.rebuilt_collection(name)
        spec = self.store.describe(rebuilt) if rebuilt else None
        return spec.index_type if spec else "HNSW"

    def drop_collection(self, name: str) -> bool:
        """Remove the collection and its vectors; False when there was none."""
        rules.check_vector_collection_name(name)
        with self._schema:
            dropped = self.store.drop(name)
            self.store.drop_speakers(name)
            return dropped

    def switch_collection(self, collection: str, target: str) -> bool:
        """Make `collection` name the vectors of `target` (a rebuild's) and drop those it named; False when it named
        them already (a switch retried after a crash)."""
        rules.check_collection_name(collection)
        rules.check_vector_collection_name(target)
        require(collection != target, "a collection cannot be switched to itself", "INVALID_ARGUMENT")
        with self._schema:
            return self.store.switch(collection, target)

    def upsert(self, collection: str, clips: Sequence[ClipVectors]) -> int:
        """Write each clip's vectors, replacing any it had; returns how many vectors were written."""
        rules.check_vector_collection_name(collection)
        clip_ids = [clip.clip_id for clip in clips]
        require(len(set(clip_ids)) == len(clip_ids), "a clip id appears twice; send each clip once", "DUPLICATE_CLIP")
        spec = self._spec(collection)
        checked = [_checked_clip(clip, spec) for clip in clips]
        if checked:
            self.store.upsert(collection, checked)
        return sum(len(clip.segments) for clip in checked)

    def delete(self, collection: str, clip_ids: Sequence[int]) -> None:
        """Remove every vector of the clips. Idempotent: unknown clips, or a missing collection, are no-ops."""
        rules.check_vector_collection_name(collection)
        _check_clip_ids(clip_ids, "clip_ids")
        if not clip_ids:
            return
        try:
            self.store.delete(collection, clip_ids)
        except errors.NotFound:
            pass  # no collection, so none of its vectors remain: what the caller wanted

    def search(
        self,
        collection: str,
        queries: Sequence[domain.Vector],
        top_k: int,
        search_filter: domain.SearchFilter = domain.SearchFilter(),
        exclude_clip_ids: Sequence[int] = (),
        search_breadth: int = 0,
    ) -> list[list[domain.Hit]]:
        """For each query vector, the top_k clips matching the filter, best first, each once with the time range
        of its best window. Scores: higher is more similar (COSINE/IP as is, minus the distance for L2).

        Window to clip is rolled up here, per query vector, because only here are the windows seen (a clip matching
        in several windows makes this ask again for more); the gateway combines a long query's vectors."""
        rules.check_vector_collection_name(collection)
        rules.check_top_k(top_k)
        require(
            1 <= len(queries) <= rules.MAX_QUERY_VECTORS,
            f"send 1..{rules.MAX_QUERY_VECTORS} query vectors per call, got {len(queries)}",
            "INVALID_QUERY_COUNT",
        )
        require(
            search_breadth == 0 or 1 <= search_breadth <= MAX_BREADTH,
            f"search_breadth must be 1..{MAX_BREADTH}, or 0 for a default; got {search_breadth}",
            "INVALID_SEARCH_BREADTH",
        )
        _check_clip_ids(exclude_clip_ids, "exclude_clip_ids")
        expression = filters.expression(search_filter, exclude_clip_ids)
        spec = self._spec(collection)
        vectors = [_checked_vector(query, spec, f"query {index}") for index, query in enumerate(queries)]
        # First ask for top_k windows: when they belong to top_k different clips (always, for one vector per clip),
        # they are exactly the top_k clips. Only queries whose windows repeat a clip ask again, for more windows.
        results = self.store.search(collection, spec, vectors, top_k, expression, search_breadth or max(64, 2 * top_k))
        crowded = [index for index, hits in enumerate(results) if _crowded(hits, top_k)]
        if crowded:
            limit = min(MAX_RESULT_WINDOW, top_k * WINDOWS_PER_CLIP)
            again = self.store.search(
                collection,
                spec,
                [vectors[index] for index in crowded],
                limit,
                expression,
                search_breadth or max(64, 2 * limit),
            )
            for index, hits in zip(crowded, again, strict=True):
                results[index] = hits
        return [_best_per_clip(hits, spec.metric, top_k) for hits in results]

    def count(self, collection: str) -> VectorCount:
        """How many vectors and how many clips the collection holds."""
        rules.check_vector_collection_name(collection)
        self._spec(collection)
        return self.store.count(collection)

    def get_vectors(self, collection: str, clip_id: int) -> list[domain.Segment]:
        """The clip's stored segments in time order; NOT_FOUND when it has none."""
        rules.check_vector_collection_name(collection)
        self._spec(collection)
        segments = self.store.segments(collection, clip_id)
        if not segments:
            raise errors.NotFound(
                f"clip {clip_id} has no vectors in collection {collection!r}; ingest it first", "CLIP_VECTORS_NOT_FOUND"
            )
        return segments

    def list_clip_ids(self, collection: str) -> list[int]:
        """Every clip id that has vectors in the collection, ascending (reconcile compares them with the records)."""
        rules.check_vector_collection_name(collection)
        self._spec(collection)
        return self.store.clip_ids(collection)

    # Speaker rows of a speakers collection (docs/speakers.md): each speaker's centroid and cohort statistics.

    def upsert_speakers(self, collection: str, speakers: Sequence[domain.SpeakerRow]) -> None:
        """Write each speaker's row, replacing any it had."""
        rules.check_collection_name(collection)
        ids = [row.speaker_id for row in speakers]
        _check_speaker_ids(ids)
        require(len(set(ids)) == len(ids), "a speaker id appears twice; send each speaker once", "DUPLICATE_SPEAKER")
        spec = self._spec(collection)
        checked = []
        for row in speakers:
            require(
                math.isfinite(row.cohort_mean) and math.isfinite(row.cohort_std) and row.cohort_std > 0,
                f"speaker {row.speaker_id!r} has cohort statistics {row.cohort_mean}, {row.cohort_std}; send a finite "
                "mean and a finite standard deviation above 0",
                "INVALID_COHORT_STATISTICS",
            )
            vector = _checked_vector(row.vector, spec, f"speaker {row.speaker_id!r}")
            checked.append(domain.SpeakerRow(row.speaker_id, vector, row.cohort_mean, row.cohort_std))
        if checked:
            self.store.upsert_speakers(collection, spec, checked)

    def delete_speakers(self, collection: str, speaker_ids: Sequence[str]) -> None:
        """Remove the speakers' rows. Idempotent: unknown speakers, or none at all, are no-ops."""
        rules.check_collection_name(collection)
        _check_speaker_ids(speaker_ids)
        if speaker_ids:
            self.store.delete_speakers(collection, speaker_ids)

    def search_speakers(
        self, collection: str, queries: Sequence[domain.Vector], top_k: int
    ) -> list[list[domain.SpeakerHit]]:
        """For each query vector, the top_k speakers, best first (none before the first speaker row)."""
        rules.check_collection_name(collection)
        rules.check_top_k(top_k)
        require(
            1 <= len(queries) <= rules.MAX_QUERY_VECTORS,
            f"send 1..{rules.MAX_QUERY_VECTORS} query vectors per call, got {len(queries)}",
            "INVALID_QUERY_COUNT",
        )
        spec = self._spec(collection)
        vectors = [_checked_vector(query, spec, f"query {index}") for index, query in enumerate(queries)]
        return self.store.search_speakers(collection, spec, vectors, top_k)

    def get_speakers(self, collection: str, speaker_ids: Sequence[str]) -> list[domain.SpeakerRow]:
        """The rows of those speakers that have one, in no particular order."""
        rules.check_collection_name(collection)
        _check_speaker_ids(speaker_ids)
        self._spec(collection)
        return self.store.get_speakers(collection, speaker_ids) if speaker_ids else []

    def _spec(self, collection: str) -> CollectionSpec:
        spec = self.store.describe(collection)
        if spec is None:
            raise collection_not_found(collection)
        return spec


def _check_clip_ids(clip_ids: Sequence[int], what: str) -> None:
    require(
        len(clip_ids) <= MAX_CLIP_IDS,
        f"send at most {MAX_CLIP_IDS} {what} per call, got {len(clip_ids)}",
        "TOO_MANY_IDS",
    )


def _check_speaker_ids(speaker_ids: Sequence[str]) -> None:
    require(
        len(speaker_ids) <= MAX_CLIP_IDS,
        f"send at most {MAX_CLIP_IDS} speaker ids per call, got {len(speaker_ids)}",
        "TOO_MANY_IDS",
    )
    for speaker_id in speaker_ids:
        rules.check_speaker_id(speaker_id)


def _checked_vector(values: domain.Vector, spec: CollectionSpec, what: str) -> npt.NDArray[np.float32]:
    """The vector as float32 (what the store keeps and searches with): the one copy between the gateway's request
    and the store, kept as an array to the store (pymilvus takes arrays as they are)."""
    vector = np.asarray(values, dtype=np.float32)
    require(
        vector.ndim == 1 and vector.size == spec.dimension,
        f"{what} has {vector.size} values; the collection's dimension is {spec.dimension}",
        "DIMENSION_MISMATCH",
    )
    require(
        bool(np.isfinite(vector).all()), f"{what} contains NaN or infinity; send finite values", "NON_FINITE_VECTOR"
    )
    # A zero vector has no direction, so its cosine with anything is undefined.
    require(
        spec.metric != "COSINE" or bool(vector.any()), f"{what} is all zeros; COSINE needs a direction", "ZERO_VECTOR"
    )
    return vector


def _checked_clip(clip: ClipVectors, spec: CollectionSpec) -> ClipVectors:
    what = f"clip {clip.clip_id}"
    require(
        1 <= len(clip.segments) <= MAX_SEGMENTS_PER_CLIP,
        f"{what} has {len(clip.segments)} segments; send 1..{MAX_SEGMENTS_PER_CLIP} (Delete removes a clip)",
        "INVALID_SEGMENT_COUNT",
    )
    require(
        math.isfinite(clip.duration_seconds) and clip.duration_seconds >= 0,
        f"{what} has duration {clip.duration_seconds}; send a finite number of seconds >= 0",
        "INVALID_DURATION",
    )
    labels = rules.valid_labels(clip.labels)
    segments = []
    for index, segment in enumerate(clip.segments):
        require(
            math.isfinite(segment.start_seconds)
            and math.isfinite(segment.end_seconds)
            and 0 <= segment.start_seconds <= segment.end_seconds,
            f"{what} segment {index} spans {segment.start_seconds}..{segment.end_seconds} s; "
            "send finite times with 0 <= start <= end",
            "INVALID_SEGMENT_TIME",
        )
        vector = _checked_vector(segment.vector, spec, f"{what} segment {index}")
        segments.append(domain.Segment(vector, segment.start_seconds, segment.end_seconds))
    return ClipVectors(clip.clip_id, labels, clip.duration_seconds, segments)


def _crowded(hits: Sequence[SegmentHit], top_k: int) -> bool:
    """A full page of window hits that repeats a clip: clips beyond it may be missing."""
    return len(hits) >= top_k and len({hit.clip_id for hit in hits}) < len(hits)


def _best_per_clip(hits: Iterable[SegmentHit], metric: str, top_k: int) -> list[domain.Hit]:
    """Roll window hits up to clips: each clip once, with its best window's score and time range."""
    best: dict[int, domain.Hit] = {}
    for hit in hits:
        score = -hit.distance if metric == "L2" else hit.distance
        current = best.get(hit.clip_id)
        if current is None or score > current.score:
            best[hit.clip_id] = domain.Hit(hit.clip_id, score, hit.start_seconds, hit.end_seconds)
    return sorted(best.values(), key=lambda hit: (-hit.score, hit.clip_id))[:top_k]
