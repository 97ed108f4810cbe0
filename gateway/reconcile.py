"""Reconcile: heal what a crash between two steps of a flow leaves behind (DESIGN.md section 5).

The metadata store is the source of truth. An ingest that never reached READY was never acknowledged, so it is
rolled back; a delete that reached DELETING was asked for, so it is finished. Vectors whose clip has no READY
record are removed. Only clips not updated for `min_age_seconds` are touched, so in-flight ingests are left alone.
READY clips whose vectors are gone are embedded again from their kept audio (docs/kept-audio.md), and kept audio
that no clip references is removed.
"""

import dataclasses
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Protocol

from audiosearch.runtime import domain
from audiosearch.runtime.logs import log_fields
from audiosearch.sdk import errors

log = logging.getLogger("audiosearch.gateway.reconcile")

PAGE_SIZE = 1000
BATCH_IDS = 1000
# Ten years: anything longer means "never touch", and overflows date arithmetic far beyond it.
MAX_AGE_SECONDS = 10 * 365 * 24 * 3600.0
# The record does not keep the index type a collection was created with.
DEFAULT_INDEX_TYPE = "HNSW"


class ReconcileCatalog(Protocol):
    def list_collections(self, page_size: int, page_token: str) -> tuple[list[domain.Collection], str]: ...
    def get_collection(self, name: str) -> domain.Collection: ...
    def list_clips_in_state(
        self, collection: str, state: domain.ClipState, page_size: int, page_token: str
    ) -> tuple[list[domain.Clip], str]: ...
    def batch_get_clips(self, clip_ids: list[int]) -> list[domain.Clip]: ...
    def delete_clip(self, clip_id: int) -> bool: ...
    def read_clip_audio(self, clip_id: int) -> tuple[domain.AudioBlob, Iterator[bytes]]: ...
    def remove_orphan_audio(self, min_age_seconds: float, dry_run: bool) -> int: ...


class ReconcileEmbedder(Protocol):
    def embed(
        self, model: str, content: bytes, segments: domain.SegmentOptions
    ) -> tuple[domain.AudioInfo, list[domain.Segment]]: ...


class ReconcileIndex(Protocol):
    def ensure_collection(self, name: str, dimension: int, metric: str, index_type: str) -> None: ...
    def list_clip_ids(self, collection: str) -> list[int]: ...
    def delete(self, collection: str, clip_ids: list[int]) -> None: ...
    def get_vectors(self, collection: str, clip_id: int) -> list[domain.Segment]: ...
    def upsert(self, collection: str, clip: domain.ClipVectors) -> None: ...


@dataclasses.dataclass
class ReconcileReport:
    name: str
    pending_rolled_back: int = 0
    deleting_finished: int = 0
    failed_removed: int = 0
    orphan_vectors_removed: int = 0
    ready_without_vectors: list[int] = dataclasses.field(default_factory=list)
    vectors_recreated: bool = False
    vectors_restored: int = 0

    @property
    def changed(self) -> bool:
        return bool(
            self.pending_rolled_back
            or self.deleting_finished
            or self.failed_removed
            or self.orphan_vectors_removed
            or self.vectors_recreated
            or self.vectors_restored
        )


@dataclasses.dataclass
class ReconcileResult:
    collections: list[ReconcileReport]
    # Kept audio no clip referenced (all collections: blobs are shared by content); only a run over all collections.
    orphan_audio_removed: int = 0


_COUNTER = {
    domain.ClipState.PENDING: "pending_rolled_back",
    domain.ClipState.DELETING: "deleting_finished",
    domain.ClipState.FAILED: "failed_removed",
}


class Reconciler:
    def __init__(
        self,
        catalog: ReconcileCatalog,
        index: ReconcileIndex,
        embedder: ReconcileEmbedder,
        min_age_seconds: float = 300.0,
    ) -> None:
        self.catalog = catalog
        self.index = index
        self.embedder = embedder
        self.min_age_seconds = min_age_seconds
        # One run at a time: the periodic run and a Reconcile RPC must not race each other.
        self._lock = threading.Lock()

    def run(self, collection: str = "", min_age_seconds: float | None = None, dry_run: bool = False) -> ReconcileResult:
        """Reconcile one collection, or all (and then the kept audio); returns what was (or, with dry_run, would be)
        done in each."""
        age = self.min_age_seconds if not min_age_seconds else min_age_seconds
        if not 0 <= age <= MAX_AGE_SECONDS:  # also refuses NaN
            raise errors.InvalidArgument(
                f"min_age_seconds must be 0..{MAX_AGE_SECONDS:.0f} (0: the gateway's setting), got {age}", "BAD_MIN_AGE"
            )
        names = [self.catalog.get_collection(collection).name] if collection else self._collection_names()
        with self._lock:
            reports = [report for name in names if (report := self._existing_collection(name, age, dry_run))]
            orphan_audio = 0 if collection else self.catalog.remove_orphan_audio(age, dry_run)
        for report in reports:
            if report.changed or report.ready_without_vectors:
                log.warning("reconciled", extra=log_fields(dry_run=dry_run, **dataclasses.asdict(report)))
        if orphan_audio:
            log.warning("orphan audio removed", extra=log_fields(dry_run=dry_run, blobs=orphan_audio))
        return ReconcileResult(reports, orphan_audio)

    def _collection_names(self) -> list[str]:
        names, token = [], ""
        while True:
            collections, token = self.catalog.list_collections(100, token)
            names += [item.name for item in collections]
            if not token:
                return names

    def _clips(self, collection: str, state: domain.ClipState) -> list[domain.Clip]:
        clips, token = [], ""
        while True:
            page, token = self.catalog.list_clips_in_state(collection, state, PAGE_SIZE, token)
            clips += page
            if not token:
                return clips

    def _existing_collection(self, name: str, age: float, dry_run: bool) -> ReconcileReport | None:
        """None when the collection was dropped while the run went on."""
        try:
            return self._collection(name, age, dry_run)
        except errors.NotFound as error:
            if error.reason == "COLLECTION_NOT_FOUND" and not self._collection_exists(name):
                return None
            raise

    def _collection_exists(self, name: str) -> bool:
        try:
            self.catalog.get_collection(name)
            return True
        except errors.NotFound:
            return False

    def _collection(self, name: str, age: float, dry_run: bool) -> ReconcileReport:
        report = ReconcileReport(name)
        cutoff = datetime.now(UTC) - timedelta(seconds=age)

        def stale(clip: domain.Clip) -> bool:
            return clip.update_time is None or clip.update_time <= cutoff

        # 1. Unfinished flows: vectors first, the record (the source of truth) last, as the flows themselves do.
        for state, counter in _COUNTER.items():
            for clip in filter(stale, self._clips(name, state)):
                if not dry_run:
                    self.index.delete(name, [clip.id])
                    self.catalog.delete_clip(clip.id)
                setattr(report, counter, getattr(report, counter) + 1)
        # 2. Vectors without a READY record. A record is fetched after the ids were listed, and an ingest creates
        # its record before it writes vectors, so "no record" here means the record is gone for good.
        vector_ids = self._vector_clip_ids(name, report, dry_run, cutoff)
        for start in range(0, len(vector_ids), BATCH_IDS):
            batch = vector_ids[start : start + BATCH_IDS]
            records = {clip.id: clip for clip in self.catalog.batch_get_clips(batch)}
            orphans = [
                clip_id
                for clip_id in batch
                if clip_id not in records
                or (records[clip_id].state is not domain.ClipState.READY and stale(records[clip_id]))
            ]
            if orphans and not dry_run:
                self.index.delete(name, orphans)
            report.orphan_vectors_removed += len(orphans)
        # 3. READY clips without vectors: embedded again from their kept audio; the others are reported.
        have = set(vector_ids)
        collection = None
        for clip in self._clips(name, domain.ClipState.READY):
            if clip.id not in have and stale(clip) and not self._has_vectors(name, clip.id):
                collection = collection or self.catalog.get_collection(name)
                if clip.audio_kept and (dry_run or self._restore(collection, clip)):
                    report.vectors_restored += 1
                else:
                    report.ready_without_vectors.append(clip.id)
        return report

    def _restore(self, collection: domain.Collection, clip: domain.Clip) -> bool:
        """Embed the clip's kept audio with its collection's model and windows and write its vectors; False (and
        logged) when the audio cannot be read or embedded: the clip is then reported."""
        try:
            _, chunks = self.catalog.read_clip_audio(clip.id)
            _, segments = self.embedder.embed(collection.model, b"".join(chunks), collection.segments)
            vectors = domain.ClipVectors(clip.id, clip.labels, clip.audio.duration_seconds, segments)
            self.index.upsert(collection.name, vectors)
        except errors.AudioSearchError as error:
            if error.code_name in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
                raise
            log.warning("vectors not restored", extra=log_fields(clip_id=clip.id, reason=error.reason))
            return False
        return True

    def _vector_clip_ids(self, name: str, report: ReconcileReport, dry_run: bool, cutoff: datetime) -> list[int]:
        """The clip ids with vectors; a vector collection that is gone while its record stays (a drop cut short,
        or lost vectors) is created again, empty, so the collection serves and its READY clips are reported.
        A record younger than the cutoff may belong to a create still in flight: left alone."""
        try:
            return self.index.list_clip_ids(name)
        except errors.NotFound:
            collection = self.catalog.get_collection(name)
            if collection.create_time is not None and collection.create_time > cutoff:
                return []
            if not dry_run:
                self.index.ensure_collection(name, collection.dimension, collection.metric, DEFAULT_INDEX_TYPE)
            report.vectors_recreated = True
            return []

    def _has_vectors(self, collection: str, clip_id: int) -> bool:
        try:
            return bool(self.index.get_vectors(collection, clip_id))
        except errors.NotFound:
            return False


class PeriodicReconcile:
    """Runs the reconciler every `interval` seconds on a daemon thread until stopped; failures are logged."""

    def __init__(self, reconciler: Reconciler, interval_seconds: float) -> None:
        self.reconciler = reconciler
        self.interval_seconds = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="reconcile")

    def start(self) -> "PeriodicReconcile":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            try:
                self.reconciler.run()
            except errors.AudioSearchError as error:
                log.warning("periodic reconcile failed", extra=log_fields(code=error.code_name, reason=error.reason))
            except Exception:  # noqa: BLE001 - a background loop must survive anything and say so
                log.exception("periodic reconcile crashed")
