"""The gateway's flows (DESIGN.md section 5): ingest, search, delete, kept consistent across the three stores.

The metadata store is the source of truth. A clip becomes visible to searches only once its vectors are written
and its record is READY; a failed ingest removes whatever it wrote.
"""

import contextlib
import hashlib
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from audiosearch.runtime import domain, rules
from audiosearch.runtime.logs import log_fields
from audiosearch.sdk import errors
from gateway import clip_audio, recordings
from gateway.locks import NamedLocks
from gateway.recent_collections import RecentCollections
from gateway.reconcile import Reconciler

log = logging.getLogger("audiosearch.gateway")

# Best first: what CreateCollection picks when given a purpose instead of a model.
MODELS_BY_PURPOSE = {
    "SPEAKERS": ("ge2e", "ecapa_tdnn", "logmel"),
    "SOUND_EVENTS": ("panns_cnn14", "panns_cnn10", "panns_cnn6", "logmel"),
    "RECORDINGS": ("fingerprint",),
}
# Windows that let cropped and re-encoded copies line up with their original (see README, Quality).
RECORDING_SEGMENTS = domain.SegmentOptions(window_seconds=3.0, hop_seconds=0.25)


class Embedder(Protocol):
    def list_models(self) -> list[domain.ModelInfo]: ...

    def embed(
        self, model: str, content: bytes, segments: domain.SegmentOptions
    ) -> tuple[domain.AudioInfo, list[domain.Segment]]: ...

    def cut(self, content: bytes, start_seconds: float, end_seconds: float | None) -> tuple[bytes, float, float]: ...


class VectorIndex(Protocol):
    def ensure_collection(self, name: str, dimension: int, metric: str, index_type: str) -> None: ...
    def drop_collection(self, name: str) -> bool: ...
    def upsert(self, collection: str, clip: domain.ClipVectors) -> None: ...
    def delete(self, collection: str, clip_ids: list[int]) -> None: ...
    def search(
        self,
        collection: str,
        queries: Sequence[domain.Vector],
        top_k: int,
        search_filter: domain.SearchFilter,
        exclude_clip_ids: Sequence[int],
        search_breadth: int = 0,
    ) -> list[list[domain.Hit]]: ...
    def count_vectors(self, collection: str) -> int: ...
    def get_vectors(self, collection: str, clip_id: int) -> list[domain.Segment]: ...
    # Speaker rows of a speakers collection (gateway/speakers.py).
    def upsert_speakers(self, collection: str, rows: Sequence[domain.SpeakerRow]) -> None: ...
    def delete_speakers(self, collection: str, speaker_ids: Sequence[str]) -> None: ...
    def search_speakers(
        self, collection: str, queries: Sequence[domain.Vector], top_k: int
    ) -> list[list[domain.SpeakerHit]]: ...
    def get_speakers(self, collection: str, speaker_ids: Sequence[str]) -> list[domain.SpeakerRow]: ...


class ClipCatalog(Protocol):
    def create_collection(self, collection: domain.Collection) -> domain.Collection: ...
    def get_collection(self, name: str) -> domain.Collection: ...
    def list_collections(self, page_size: int, page_token: str) -> tuple[list[domain.Collection], str]: ...
    def delete_collection(self, name: str) -> int: ...
    def create_clip(self, clip: domain.Clip, request_id: str) -> tuple[domain.Clip, bool]: ...
    def get_clip(self, clip_id: int) -> domain.Clip: ...
    def batch_get_clips(self, clip_ids: list[int]) -> list[domain.Clip]: ...
    def list_clips(
        self, collection: str, page_size: int, page_token: str, search_filter: domain.SearchFilter
    ) -> tuple[list[domain.Clip], str]: ...
    def find_by_content_hash(self, collection: str, content_sha256: str) -> domain.Clip: ...
    def update_clip_state(self, clip_id: int, state: domain.ClipState, segment_count: int = 0) -> domain.Clip: ...
    def delete_clip(self, clip_id: int) -> bool: ...
    def count_clips(self, collection: str) -> dict[str, int]: ...
    def set_calibration(self, name: str, calibration: domain.Calibration | None) -> domain.Collection: ...
    def put_clip_audio(self, clip_id: int, content: bytes) -> domain.Clip: ...
    def read_clip_audio(self, clip_id: int) -> tuple[domain.AudioBlob, Iterator[bytes]]: ...


@dataclass(frozen=True)
class IngestRequest:
    collection: str
    content: bytes
    source: str = ""
    labels: domain.Labels = domain.Labels()
    request_id: str = ""
    # A caller's own rule on the embedded audio (the speakers' net speech), applied before anything is written.
    check_audio: Callable[[domain.AudioInfo], None] | None = None


@dataclass(frozen=True)
class IngestResult:
    clip: domain.Clip
    duplicate: bool


@dataclass(frozen=True)
class SearchQuery:
    """Exactly one of audio, clip_id or vector is set."""

    collection: str
    top_k: int
    audio: bytes | None = None
    clip_id: int | None = None
    vector: Sequence[float] | None = None
    min_score: float | None = None
    search_filter: domain.SearchFilter = domain.SearchFilter()
    # HNSW ef / IVF nprobe; 0 lets the search service choose. Bounds are the search service's to check.
    search_breadth: int = 0


@dataclass(frozen=True)
class SearchResult:
    model: str
    hits: list[domain.SearchHit]
    # Recordings searches with audio or a stored clip: what decided each hit's MATCH or NO_MATCH.
    threshold: domain.MatchThreshold | None = None


@dataclass(frozen=True)
class ImportProgress:
    path: str
    outcome: str  # ADDED, DUPLICATE or FAILED
    clip: domain.Clip | None
    error: str
    done: int
    total: int


class DirectoryImporter(Protocol):
    """Folder imports as jobs (gateway/import_jobs.py ImportJobs)."""

    def import_directory(
        self, collection: str, path: str, recursive: bool, labels: domain.Labels, label_from_parent: bool
    ) -> Iterator[ImportProgress]: ...


@dataclass(frozen=True)
class CollectionStats:
    name: str
    model: str
    ready_clips: int
    pending_clips: int
    failed_clips: int
    vectors: int
    problem: str = ""


class GatewayCore:
    def __init__(
        self,
        embedder: Embedder,
        index: VectorIndex,
        catalog: ClipCatalog,
        reconciler: Reconciler,
        max_upload_bytes: int = 64 * 1024 * 1024,
        importer: "DirectoryImporter | None" = None,
        collection_cache_seconds: float = 0.0,
    ) -> None:
        self.importer = importer
        self.embedder = embedder
        self.index = index
        self.catalog = catalog
        self.max_upload_bytes = max_upload_bytes
        self.reconciler = reconciler
        self.recent_collections = RecentCollections(catalog, collection_cache_seconds)
        self._names = NamedLocks()
        # Told of each clip this core makes READY or deletes (the speaker index keeps speakers' rows by them).
        self.clip_listeners: list[Callable[[domain.Clip], None]] = []

    # Models and collections

    def list_models(self) -> list[domain.ModelInfo]:
        """The embedding service's models, with their availability."""
        return self.embedder.list_models()

    def create_collection(
        self,
        name: str,
        model_name: str,
        segments: domain.SegmentOptions,
        index_type: str = "",
        purpose: str = "",
        keep_audio: bool | None = None,
    ) -> domain.Collection:
        """Register a collection bound to a model and create its vector index; nothing remains if either fails.

        With no model, `purpose` (SPEAKERS, SOUND_EVENTS, RECORDINGS) picks the best available one. `keep_audio`
        None keeps the clips' audio unless the collection is for speakers (docs/kept-audio.md).
        """
        if purpose and purpose not in MODELS_BY_PURPOSE:
            raise errors.InvalidArgument(
                f"purpose {purpose!r} is not one of {', '.join(MODELS_BY_PURPOSE)}", "INVALID_PURPOSE"
            )
        if not model_name and purpose:
            model_name = self._model_for(purpose)
            if purpose == "RECORDINGS" and not segments.enabled:
                segments = RECORDING_SEGMENTS
        index_type = rules.choice(index_type or "HNSW", rules.INDEX_TYPES, "index_type")
        model = self._model(model_name)
        rules.check_segments(segments, model.min_duration_seconds)
        with self._names.hold(name), self._forgetting(name):
            keep = clip_audio.keeps_audio_by_default(purpose) if keep_audio is None else keep_audio
            created = self.catalog.create_collection(
                domain.Collection(
                    name, model.name, model.dimension, model.metric, segments, purpose=purpose, keep_audio=keep
                )
            )
            try:
                self.index.ensure_collection(name, model.dimension, model.metric, index_type)
            except errors.AudioSearchError:
                self.catalog.delete_collection(name)
                raise
        return created

    @contextlib.contextmanager
    def _forgetting(self, name: str) -> Iterator[None]:
        """Whatever happens to the record of `name` here, the recent read of it is forgotten after."""
        try:
            yield
        finally:
            self.recent_collections.forget(name)

    def _model_for(self, purpose: str) -> str:
        available = {model.name for model in self.embedder.list_models() if model.available}
        for name in MODELS_BY_PURPOSE[purpose]:
            if name in available:
                return name
        raise errors.FailedPrecondition(
            f"no model for {purpose.lower()} is available (wanted one of {', '.join(MODELS_BY_PURPOSE[purpose])})",
            "NO_MODEL_FOR_PURPOSE",
        )

    def _model(self, name: str) -> domain.ModelInfo:
        models = {model.name: model for model in self.embedder.list_models()}
        if not name:
            raise errors.InvalidArgument(f"choose a model: one of {', '.join(sorted(models))}", "MODEL_REQUIRED")
        model = models.get(name)
        if model is None:
            raise errors.NotFound(f"unknown model {name!r}; known models: {', '.join(sorted(models))}", "UNKNOWN_MODEL")
        if not model.available:
            raise errors.FailedPrecondition(
                f"model {name} is unavailable: {model.unavailable_reason}", "MODEL_UNAVAILABLE"
            )
        return model

    def list_collections(self, page_size: int, page_token: str) -> tuple[list[domain.Collection], str]:
        return self.catalog.list_collections(page_size, page_token)

    def drop_collection(self, name: str) -> int:
        """Drop the vectors, then the records (the source of truth goes last); returns the clips deleted.

        Vectors whose record is gone (a create or drop cut short) are dropped too, so a stuck name is recovered;
        NOT_FOUND only when neither store has the collection."""
        with self._names.hold(name), self._forgetting(name):
            try:
                self.catalog.get_collection(name)
            except errors.NotFound:
                if self.index.drop_collection(name):
                    log.warning("dropped vectors that had no collection record", extra=log_fields(collection=name))
                    return 0
                raise
            self.index.drop_collection(name)
            return self.catalog.delete_collection(name)

    # Ingest

    def ingest(self, request: IngestRequest) -> IngestResult:
        """Hash, dedupe, embed, create the record, write vectors, mark READY; undo everything on failure.

        `duplicate` is False only for the call that created the clip's record: of concurrent identical uploads,
        exactly one says it added the clip.

        Dedupe is looked up twice, on purpose: here, before the embed, so a READY duplicate costs one key lookup instead
        of an embed (the costly step); then inside CreateClip, the atomic one under the store's unique keys, which
        decides between concurrent identical uploads and refuses a reused request_id. The audio facts are written
        once, with the record (the embed, which measures them, comes first); READY adds only the segment count."""
        self._check_audio_size(request.content)
        labels = rules.valid_labels(request.labels)  # refused before the costly embed, and before any write
        collection = self.catalog.get_collection(request.collection)
        digest = hashlib.sha256(request.content).hexdigest()
        existing = self._find_by_hash(collection.name, digest)
        if existing is not None and existing.state is domain.ClipState.READY:
            return IngestResult(existing, duplicate=True)
        # Embedding first: bad audio is refused before anything is written.
        audio, segments = self.embedder.embed(collection.model, request.content, collection.segments)
        if request.check_audio is not None:
            request.check_audio(audio)
        clip, created = existing, False
        if clip is None:
            draft = domain.Clip(
                id=0,
                collection=collection.name,
                content_sha256=digest,
                source=request.source,
                audio=audio,
                labels=labels,
            )
            clip, created = self.catalog.create_clip(draft, request.request_id)
            if not created and clip.state is domain.ClipState.READY:
                return IngestResult(clip, duplicate=True)
        # A record another call created but has not finished: writing its vectors again is idempotent.
        try:
            if collection.keep_audio and not clip.audio_kept:  # nothing READY without its audio
                self.catalog.put_clip_audio(clip.id, request.content)
            self.index.upsert(
                collection.name, domain.ClipVectors(clip.id, clip.labels, clip.audio.duration_seconds, segments)
            )
            ready = self.catalog.update_clip_state(clip.id, domain.ClipState.READY, segment_count=len(segments))
        except errors.AudioSearchError:
            self._undo_ingest(collection.name, clip.id)
            raise
        log.info("clip ingested", extra=log_fields(clip_id=ready.id, collection=collection.name))
        self._tell(ready)
        return IngestResult(ready, duplicate=not created)

    def _check_audio_size(self, content: bytes) -> None:
        """Uploads and query audio alike; the gRPC message limit sits above this one, so what is too large is refused
        here, with a reason, and not by the transport."""
        if not content:
            raise errors.InvalidArgument("the audio is empty: send the audio file's bytes", "EMPTY_AUDIO")
        if len(content) > self.max_upload_bytes:
            raise errors.ResourceExhausted(
                f"the audio is {len(content)} bytes; the limit is {self.max_upload_bytes}: send a shorter clip",
                "AUDIO_TOO_LARGE",
            )

    def _find_by_hash(self, collection: str, digest: str) -> domain.Clip | None:
        try:
            return self.catalog.find_by_content_hash(collection, digest)
        except errors.NotFound:
            return None

    def _undo_ingest(self, collection: str, clip_id: int) -> None:
        """Best effort: what cannot be removed now stays for reconcile to clean up. The record goes first: the failed
        step may have been a READY that committed but whose reply was lost, and a retry then acknowledges that record,
        so its vectors must stay unless the record is gone (vectors without a record are only orphans)."""
        try:
            self.catalog.delete_clip(clip_id)
            self.index.delete(collection, [clip_id])
        except errors.AudioSearchError:
            log.warning("ingest cleanup incomplete", extra=log_fields(clip_id=clip_id), exc_info=True)

    def import_directory(
        self, collection: str, path: str, recursive: bool, labels: domain.Labels, label_from_parent: bool
    ) -> Iterator[ImportProgress]:
        """Ingest every audio file below `path` (inside the import roots) as an import job, streamed file by file in
        listing order; a bad file is reported, never fatal (gateway/import_jobs.py)."""
        if self.importer is None:
            raise errors.FailedPrecondition("this gateway runs no import jobs", "IMPORT_JOBS_OFF")
        return self.importer.import_directory(collection, path, recursive, labels, label_from_parent)

    # Search

    def search(self, query: SearchQuery) -> SearchResult:
        """The collection's model and the top-k READY clips most similar to the query, best first.

        In a recordings collection, a query with time ranges (audio, a stored clip) is aligned to each clip
        (gateway/recordings.py) and each hit says MATCH or NO_MATCH."""
        rules.check_top_k(query.top_k)
        if query.min_score is not None and not math.isfinite(query.min_score):
            raise errors.InvalidArgument(
                f"min_score must be a finite number, got {query.min_score}", "INVALID_MIN_SCORE"
            )
        collection = self.catalog.get_collection(query.collection)
        exclude: list[int] = []
        vectors: list[domain.Vector]
        segments: list[domain.Segment] = []
        aligned = recordings.is_recordings(collection)
        if query.audio is not None:
            self._check_audio_size(query.audio)
            # Cut like the collection's clips, so a query longer than one window matches window for window.
            cut = recordings.query_segments(collection.segments) if aligned else collection.segments
            _, segments = self.embedder.embed(collection.model, query.audio, cut)
            vectors = [segment.vector for segment in segments]
        elif query.clip_id is not None:
            clip = self.catalog.get_clip(query.clip_id)
            if clip.collection != collection.name:
                raise errors.InvalidArgument(
                    f"clip {clip.id} belongs to collection {clip.collection!r}", "WRONG_COLLECTION"
                )
            segments = self.index.get_vectors(collection.name, clip.id)
            vectors = [segment.vector for segment in segments]
            exclude = [clip.id]
        elif query.vector is not None:
            if len(query.vector) != collection.dimension:
                raise errors.InvalidArgument(
                    f"the query vector has {len(query.vector)} values; collection {collection.name} "
                    f"needs {collection.dimension}",
                    "DIMENSION_MISMATCH",
                )
            vectors = [query.vector]
        else:
            raise errors.InvalidArgument("set one query: audio, clip_id or vector", "QUERY_REQUIRED")
        # A little headroom: hits whose clip is not READY are dropped below.
        limit = min(rules.MAX_TOP_K, query.top_k + 16)
        # The search service rolls each query vector's windows up to clips (only it sees the windows); the whole
        # query, sent in calls of at most MAX_QUERY_VECTORS, is combined here, the one place that sees all of it.
        aligner = None
        if aligned and segments:
            spans = [(segment.start_seconds, segment.end_seconds) for segment in segments]
            aligner = recordings.Aligner(spans, collection.segments.hop_seconds)
        roll_up = aligner or _RollUp()
        for first in range(0, len(vectors), rules.MAX_QUERY_VECTORS):
            batch = vectors[first : first + rules.MAX_QUERY_VECTORS]
            roll_up.add(
                self.index.search(collection.name, batch, limit, query.search_filter, exclude, query.search_breadth)
            )
        best = roll_up.ranked(len(vectors))[:limit]
        if query.min_score is not None:
            best = [hit for hit in best if hit.score >= query.min_score]
        clips = {clip.id: clip for clip in self.catalog.batch_get_clips([hit.clip_id for hit in best])}
        threshold = recordings.threshold(collection) if aligner else None
        ready = [
            recordings.search_hit(clips[hit.clip_id], hit.score, aligner.alignments[hit.clip_id], threshold)
            if aligner
            else domain.SearchHit(clips[hit.clip_id], hit.score, hit.start_seconds, hit.end_seconds)
            for hit in best
            if hit.clip_id in clips and clips[hit.clip_id].state is domain.ClipState.READY
        ]
        return SearchResult(collection.model, ready[: query.top_k], threshold)

    def calibrate_recordings(
        self, collection: str, target_false_positive_rate: float, snippet_seconds: float
    ) -> domain.Calibration:
        """Measure a recordings collection's MATCH threshold on its own recordings (gateway/recordings.py) and store
        it with the collection."""
        found = self.catalog.get_collection(collection)
        clip_ids: list[int] = []
        token = ""
        while len(clip_ids) < recordings.MAX_CALIBRATION_CLIPS:
            clips, token = self.catalog.list_clips(collection, 100, token, domain.SearchFilter())
            clip_ids += [clip.id for clip in clips if clip.state is domain.ClipState.READY]
            if not token:
                break
        clip_ids = clip_ids[: recordings.MAX_CALIBRATION_CLIPS]
        calibration = recordings.calibrate(found, clip_ids, self.index, target_false_positive_rate, snippet_seconds)
        self.catalog.set_calibration(collection, calibration)
        self.recent_collections.forget(collection)
        return calibration

    # Clips

    def get_clip(self, clip_id: int) -> domain.Clip:
        return self.catalog.get_clip(clip_id)

    def list_clips(
        self, collection: str, page_size: int, page_token: str, search_filter: domain.SearchFilter
    ) -> tuple[list[domain.Clip], str]:
        return self.catalog.list_clips(collection, page_size, page_token, search_filter)

    def delete_clip(self, clip_id: int) -> bool:
        """Mark DELETING, remove the vectors, then the record. Idempotent: False when there was no such clip."""
        try:
            clip = self.catalog.get_clip(clip_id)
        except errors.NotFound:
            return False
        self.catalog.update_clip_state(clip.id, domain.ClipState.DELETING)
        self.index.delete(clip.collection, [clip.id])
        deleted = self.catalog.delete_clip(clip.id)
        self._tell(clip)
        return deleted

    def _tell(self, clip: domain.Clip) -> None:
        for listener in self.clip_listeners:
            listener(clip)

    def get_clip_audio(
        self, collection: str, clip_id: int, start_seconds: float | None, end_seconds: float | None
    ) -> tuple[domain.AudioBlob, Iterator[bytes]]:
        """A clip's kept audio: the uploaded bytes, or with a time range a WAV of it (gateway/clip_audio.py)."""
        return clip_audio.read(self.catalog, self.embedder, collection, clip_id, start_seconds, end_seconds)

    def reconcile(self, collection: str = "", min_age_seconds: float = 0.0, dry_run: bool = False):
        """Heal crash leftovers (gateway/reconcile.py); 0 for min_age_seconds uses the configured bound."""
        return self.reconciler.run(collection, min_age_seconds, dry_run)

    def stats(self) -> list[CollectionStats]:
        """Clip counts by state and vector counts of every collection; a collection whose counts cannot be read
        says why in its own row, and the others are still counted."""
        rows = []
        token = ""
        while True:
            collections, token = self.catalog.list_collections(100, token)
            rows += [self._collection_stats(collection) for collection in collections]
            if not token:
                return rows

    def _collection_stats(self, collection: domain.Collection) -> CollectionStats:
        counts, vectors, problem = {}, 0, ""
        try:
            counts = self.catalog.count_clips(collection.name)
            vectors = self.index.count_vectors(collection.name)
        except errors.NotFound as error:  # dropped meanwhile, or its vectors are gone (a drop cut short)
            problem = f"{error.reason}: {error.message}; Reconcile repairs a collection whose vectors are gone"
        return CollectionStats(
            name=collection.name,
            model=collection.model,
            ready_clips=counts.get("READY", 0),
            pending_clips=counts.get("PENDING", 0),
            failed_clips=counts.get("FAILED", 0),
            vectors=vectors,
            problem=problem,
        )


class _RollUp:
    """One hit per clip across a query's vectors, best first: the mean over query vectors of each one's score for
    the clip (0 where the clip is not among its hits), so a clip matching the whole query beats one matching a single
    window; the time range is that of the clip's best single window. Each query vector's hits come from the search
    service already rolled up from windows to clips (each clip once, with its best window). Fed batch by batch, so
    memory follows the clips found, not the query's length."""

    def __init__(self) -> None:
        self._totals: dict[int, float] = {}
        self._best: dict[int, domain.Hit] = {}

    def add(self, results: list[list[domain.Hit]]) -> None:
        for hits in results:
            for hit in hits:
                self._totals[hit.clip_id] = self._totals.get(hit.clip_id, 0.0) + hit.score
                if hit.clip_id not in self._best or hit.score > self._best[hit.clip_id].score:
                    self._best[hit.clip_id] = hit

    def ranked(self, query_count: int) -> list[domain.Hit]:
        count = max(1, query_count)
        rolled = [replace(hit, score=self._totals[clip_id] / count) for clip_id, hit in self._best.items()]
        return sorted(rolled, key=lambda hit: hit.score, reverse=True)
