"""One run of an import job in this gateway: list the folder into the job (once), then embed its pending files with
bounded concurrency, spread over the embedding replicas by the channel's round_robin, and write them in batches.

Consistency is that of a single ingest (gateway/core.py), batch by batch: records are created PENDING, the batch's
vectors are upserted, then one metadata transaction marks the clips READY and records each file's outcome and the
job's counts. A crash between those steps leaves PENDING clips whose files have no outcome: the resumed run (here or
in another gateway) embeds them again and finds its own records by the per-file request_id (job id + ordinal), so
no file is ingested twice or skipped; reconcile rolls back what a job that never resumes left behind.
"""

import contextlib
import dataclasses
import functools
import hashlib
import logging
import pathlib
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar

from audiosearch.runtime import context, domain, paths
from audiosearch.runtime.import_jobs import CompletedFile, FileOutcome, ImportFile, ImportJob, JobState
from audiosearch.runtime.logs import log_fields
from audiosearch.sdk import errors

log = logging.getLogger("audiosearch.gateway.import")

T = TypeVar("T")
# Worth waiting out: a replica busy or restarting, a store restarting. Anything else fails the file.
TRANSIENT = frozenset({"UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "ABORTED"})
LISTING_CHUNK = 1000
PENDING_PAGE = 1000
MAX_BACKOFF_SECONDS = 5.0
BATCH_WAIT_SECONDS = 0.25  # progress and cancels stay prompt; at 100 files/s, batches of ~25


class JobRecords(Protocol):
    def renew(self, job_id: int, holder: str, lease_seconds: float) -> ImportJob: ...
    def add_files(self, job_id: int, holder: str, first_ordinal: int, paths: list[str], done: bool) -> ImportJob: ...
    def files(self, job_id: int, after_ordinal: int, page_size: int, which: str) -> list[ImportFile]: ...
    def create_clips(
        self, job_id: int, holder: str, drafts: list[tuple[domain.Clip, str]]
    ) -> list[tuple[domain.Clip | None, bool, str]]: ...
    def complete(self, job_id: int, holder: str, files: list[CompletedFile]) -> ImportJob: ...
    def finish(self, job_id: int, holder: str, state: JobState, error: str) -> ImportJob: ...


class ImportEmbedder(Protocol):
    def embed(
        self, model: str, content: bytes, segments: domain.SegmentOptions
    ) -> tuple[domain.AudioInfo, list[domain.Segment]]: ...


class ImportIndex(Protocol):
    def upsert_many(self, collection: str, clips: list[domain.ClipVectors]) -> None: ...


class ImportCatalog(Protocol):
    def get_collection(self, name: str) -> domain.Collection: ...
    def find_by_content_hash(self, collection: str, content_sha256: str) -> domain.Clip: ...
    def count_clips(self, collection: str) -> dict[str, int]: ...
    def put_clips_audio(self, contents: list[tuple[int, bytes]]) -> set[int]: ...


@dataclasses.dataclass(frozen=True)
class PipelineSettings:
    concurrency: int = 4
    batch_size: int = 64
    lease_seconds: float = 30.0
    retry_seconds: float = 300.0
    import_roots: tuple[str, ...] = ()
    max_upload_bytes: int = 64 * 1024 * 1024


class _Stopped(Exception):
    """The run is stopping (cancelled, lease lost, gateway shutting down): the file is left for later, untouched."""


@dataclasses.dataclass
class _Prepared:
    """A file ready to write (draft and segments), or one whose outcome is already known (no draft)."""

    file: ImportFile
    outcome: FileOutcome = FileOutcome.FAILED
    clip_id: int = 0
    error: str = ""
    draft: domain.Clip | None = None
    segments: list[domain.Segment] = dataclasses.field(default_factory=list)
    # The file's bytes, when its collection keeps audio (docs/kept-audio.md).
    content: bytes = b""


_END = object()
CLIP_DELETED = "ABORTED: the clip was deleted while it was imported"


class _BoundedEmbedder:
    """`limit` embeds in flight at most, however many workers: the workers read and hash the next files while the
    embeds run, so the replicas never wait for the gateway's reads. A file whose turn comes after the run was told
    to stop is left for later, unembedded."""

    def __init__(self, embedder: ImportEmbedder, limit: int, run: "ImportRun") -> None:
        self._embedder = embedder
        self._turns = threading.BoundedSemaphore(limit)
        self._run = run

    def embed(
        self, model: str, content: bytes, segments: domain.SegmentOptions
    ) -> tuple[domain.AudioInfo, list[domain.Segment]]:
        with self._turns:
            if self._run.stop.is_set():
                raise _Stopped()
            return self._embedder.embed(model, content, segments)


class ImportRun:
    """Runs one leased job until it is done, cancelled, or its lease is lost; the metadata store keeps the rest."""

    def __init__(
        self,
        job: ImportJob,
        holder: str,
        records: JobRecords,
        embedder: ImportEmbedder,
        index: ImportIndex,
        catalog: ImportCatalog,
        settings: PipelineSettings,
    ) -> None:
        self.job = job
        self.holder = holder
        self.records = records
        self.embedder = _BoundedEmbedder(embedder, settings.concurrency, self)
        self.index = index
        self.catalog = catalog
        self.settings = settings
        self.stop = threading.Event()  # no new file starts; in-flight files finish (or are dropped unwritten)
        self.cancelled = threading.Event()
        self.lost = threading.Event()  # another gateway holds the job: write nothing more
        self.folder = pathlib.Path(job.path)  # resolved below the import roots again by each run
        self._roots: tuple[pathlib.Path, ...] = ()  # the import roots' real paths, found once by each run
        self._write_error: errors.AudioSearchError | None = None
        self._look_up: bool | None = None  # see _duplicates_possible; None until the run's first file
        self._look_up_guard = threading.Lock()

    def cancel(self) -> None:
        self.cancelled.set()
        self.stop.set()

    def run(self) -> None:
        heartbeat = threading.Thread(target=self._heartbeat, daemon=True, name=f"import-{self.job.id}-lease")
        heartbeat.start()
        try:
            self._run()
        except _Stopped:
            return
        except errors.AudioSearchError as error:
            if error.reason == "LEASE_LOST" or self.lost.is_set():
                log.warning("import job lost its lease", extra=log_fields(job_id=self.job.id))
                return
            if error.code_name in TRANSIENT:  # the lease expires and a gateway resumes the job later
                log.warning("import job paused", extra=log_fields(job_id=self.job.id, reason=error.reason))
                return
            self._finish(JobState.FAILED, f"{error.code_name} {error.reason}: {error.message}")
        finally:
            self.stop.set()
            heartbeat.join()

    def _run(self) -> None:
        if self.job.state is JobState.CANCELLING:
            self.cancelled.set()
        collection = self._collection()
        if not self.job.listing_done and not self.cancelled.is_set():
            self._list()
        if not self.cancelled.is_set():
            self._process(collection)
        if self._write_error is not None:
            raise self._write_error
        if self.lost.is_set() or (self.stop.is_set() and not self.cancelled.is_set()):
            return  # shutting down or taken over: the job stays unfinished for its next holder
        self._finish(JobState.CANCELLED if self.cancelled.is_set() else JobState.SUCCEEDED, "")

    def _collection(self) -> domain.Collection:
        """The collection the files go into (its model and windows embed them); the folder, checked again."""
        self._roots = paths.real_roots(self.settings.import_roots)
        self.folder = paths.resolve_inside(self.job.path, self.settings.import_roots, resolved=self._roots)
        return self.catalog.get_collection(self.job.collection)

    def _finish(self, state: JobState, error: str) -> None:
        job = self.records.finish(self.job.id, self.holder, state, error)
        log.info("import job finished", extra=log_fields(job_id=job.id, state=state.value, files=job.files_done))

    def _heartbeat(self) -> None:
        interval = min(self.settings.lease_seconds / 3, 1.0)  # also how soon a cancel made elsewhere is seen
        while not self.stop.wait(interval):
            try:
                job = self.records.renew(self.job.id, self.holder, self.settings.lease_seconds)
            except errors.AudioSearchError as error:
                if error.reason == "LEASE_LOST":
                    self.lost.set()
                    self.stop.set()
                    return
                log.warning("lease renewal failed", extra=log_fields(job_id=self.job.id, reason=error.reason))
                continue
            if job.state is JobState.CANCELLING:
                self.cancel()

    # Listing

    def _list(self) -> None:
        folder = self.folder
        if not folder.is_dir():
            raise errors.InvalidArgument(f"{self.job.path} is not a folder", "NOT_A_FOLDER")
        names = [str(file.relative_to(folder)) for file in paths.audio_files(folder, self.job.recursive)]
        for start in range(0, max(len(names), 1), LISTING_CHUNK):
            add = functools.partial(
                self.records.add_files,
                self.job.id,
                self.holder,
                start,
                names[start : start + LISTING_CHUNK],
                start + LISTING_CHUNK >= len(names),
            )
            self._retry(add, self.lost)

    # The pipeline: a feeder (this thread), `concurrency` embedding workers, and one writer

    def _process(self, collection: domain.Collection) -> None:
        results: queue.SimpleQueue = queue.SimpleQueue()
        # Files in flight or waiting for the writer, bounded (a kept-audio collection's files hold their bytes until
        # written): the workers' files and two batches' worth, so the workers go on while the writer writes a batch,
        # even a slow one (kept audio fsynced on a busy disk: 0.4 s for 64 files, longer than the next batch took).
        slots = threading.Semaphore(self.settings.concurrency * 2 + 2 * self.settings.batch_size)

        def work(sequence: int, file: ImportFile) -> None:
            context.request_id.set(self._request_id(file))  # the file's calls, in every service's logs
            prepared = None  # not written: the file stays pending for a later run
            try:
                prepared = self._prepare(collection, file)
            except _Stopped:
                pass
            except Exception as error:  # noqa: BLE001 - a worker must report, never vanish: the file fails
                log.exception("import worker crashed", extra=log_fields(job_id=self.job.id, path=file.path))
                prepared = _Prepared(file, FileOutcome.FAILED, error=f"INTERNAL: {type(error).__name__}: {error}")
            results.put((sequence, prepared))

        writer = threading.Thread(
            target=self._write_loop, args=(collection, results, slots), name=f"import-{self.job.id}-writer"
        )
        writer.start()
        try:
            workers = self.settings.concurrency * 2  # half read and hash the next files while the others embed
            with ThreadPoolExecutor(workers, thread_name_prefix=f"import-{self.job.id}") as pool:
                self._feed(pool, work, slots)
        finally:
            results.put(_END)
            writer.join()

    def _feed(self, pool: ThreadPoolExecutor, work: Callable[[int, ImportFile], None], slots: threading.Semaphore):
        """Hand the pending files to the workers in listing order, never more than the slots allow."""
        cursor, sequence = -1, 0
        while not self.stop.is_set():
            pending = functools.partial(self.records.files, self.job.id, cursor, PENDING_PAGE, "PENDING")
            page = self._retry(pending, self.stop)
            if not page:
                return
            for file in page:
                while not slots.acquire(timeout=0.2):
                    if self.stop.is_set():
                        return
                pool.submit(work, sequence, file)
                sequence += 1
            cursor = page[-1].ordinal

    def _prepare(self, collection: domain.Collection, file: ImportFile) -> _Prepared | None:
        if self.stop.is_set():
            return None
        path = self.folder / file.path
        labels = self.job.labels
        if self.job.label_from_parent:
            labels = dataclasses.replace(labels, sound_class=path.parent.name)
        try:
            real = paths.resolve_inside(str(path), self.settings.import_roots, resolved=self._roots)
            content = paths.read_regular_file(real, self.settings.max_upload_bytes)
            digest = hashlib.sha256(content).hexdigest()
            existing = self._existing(collection.name, digest)
            if existing is not None and existing.state is domain.ClipState.READY:
                return _Prepared(file, FileOutcome.DUPLICATE, existing.id)
            audio, segments = self._retry(
                lambda: self.embedder.embed(collection.model, content, collection.segments), self.stop
            )
        except errors.AudioSearchError as error:
            return _Prepared(file, FileOutcome.FAILED, error=f"{error.code_name}: {error.message}")
        draft = domain.Clip(0, collection.name, digest, source=file.path, audio=audio, labels=labels)
        return _Prepared(file, draft=draft, segments=segments, content=content if collection.keep_audio else b"")

    def _existing(self, collection: str, digest: str) -> domain.Clip | None:
        if not self._duplicates_possible(collection):
            return None
        try:
            return self._retry(lambda: self.catalog.find_by_content_hash(collection, digest), self.stop)
        except errors.NotFound as error:
            if error.reason == "COLLECTION_NOT_FOUND":
                raise
            return None

    def _duplicates_possible(self, collection: str) -> bool:
        """Whether looking a file's content up before its embed may find it: not while the collection held no READY
        clip when this run began and none of the run's files has turned out a duplicate. The lookup only saves the
        embeds of duplicates (create_clips finds them anyway, after their embed): a call per file into an empty
        collection, say a library's first import, would find nothing, at the cost of about a third of a light
        model's CPU time per file."""
        with self._look_up_guard:
            if self._look_up is None:
                counts = self._retry(lambda: self.catalog.count_clips(collection), self.stop)
                self._look_up = counts.get(domain.ClipState.READY.value, 0) > 0
            return self._look_up

    def _write_loop(self, collection: domain.Collection, results: queue.SimpleQueue, slots: threading.Semaphore):
        """Writes in listing order (the first of two files with the same audio is the one ADDED, as in a sequential
        import), batch_size files at a time, or what is ready once the oldest of them has waited BATCH_WAIT_SECONDS:
        each write costs three calls whatever its size, so small batches would spend the cores the embeds need."""
        context.request_id.set(f"import-{self.job.id}")  # the batches' calls, in every service's logs
        waiting: dict[int, _Prepared | None] = {}
        ready: list[_Prepared] = []
        next_sequence, ended, oldest = 0, False, 0.0
        while not ended:
            wait = None if not ready else max(0.0, oldest + BATCH_WAIT_SECONDS - time.monotonic())
            arrived = []
            with contextlib.suppress(queue.Empty):
                arrived.append(results.get(timeout=wait))
                while True:
                    arrived.append(results.get_nowait())
            for item in arrived:
                if item is _END:
                    ended = True
                else:
                    waiting[item[0]] = item[1]
            while next_sequence in waiting:
                prepared = waiting.pop(next_sequence)
                next_sequence += 1
                slots.release()
                if prepared is not None:
                    if not ready:
                        oldest = time.monotonic()
                    ready.append(prepared)
            due = ended or self.stop.is_set() or time.monotonic() >= oldest + BATCH_WAIT_SECONDS
            while ready and (due or len(ready) >= self.settings.batch_size):
                batch, ready = ready[: self.settings.batch_size], ready[self.settings.batch_size :]
                self._write_safely(collection, batch)
                oldest = time.monotonic()

    def _write_safely(self, collection: domain.Collection, batch: list["_Prepared"]) -> None:
        if self._write_error is None and not self.lost.is_set():
            try:
                self._write(collection, batch)
            except errors.AudioSearchError as error:
                self._write_error = error
                self.stop.set()
            except _Stopped:  # the lease was lost while waiting out an outage
                self.stop.set()

    def _write(self, collection: domain.Collection, batch: list[_Prepared]) -> None:
        job_id, holder = self.job.id, self.holder
        drafts = [item for item in batch if item.draft is not None]
        created = self._retry(
            lambda: self.records.create_clips(
                job_id, holder, [(item.draft, self._request_id(item.file)) for item in drafts if item.draft]
            ),
            self.lost,
        )
        completed = [CompletedFile(item.file.ordinal, item.outcome, item.clip_id, 0, item.error) for item in batch
                     if item.draft is None]  # fmt: skip
        vectors: dict[int, domain.ClipVectors] = {}  # by clip: two files of the same content share one clip
        kept: dict[int, bytes] = {}  # audio to keep before the clips are READY
        for item, (clip, ours, error) in zip(drafts, created, strict=True):
            if clip is None:
                completed.append(CompletedFile(item.file.ordinal, FileOutcome.FAILED, error=error))
                continue
            outcome = FileOutcome.ADDED if ours else FileOutcome.DUPLICATE
            if not ours:
                self._look_up = True  # duplicates are about: look the next files up before their embeds
            if not ours and clip.state is domain.ClipState.READY:
                completed.append(CompletedFile(item.file.ordinal, outcome, clip.id))
                continue
            # Ours, or another call's unfinished record: writing its vectors again is idempotent (as in ingest).
            vectors[clip.id] = domain.ClipVectors(clip.id, clip.labels, clip.audio.duration_seconds, item.segments)
            if collection.keep_audio and not clip.audio_kept:
                kept[clip.id] = item.content
            completed.append(CompletedFile(item.file.ordinal, outcome, clip.id, len(item.segments)))
        # The batch's audio is stored in one call (a few for large batches), beside its vectors. A clip deleted
        # meanwhile (on its own, or with its collection) is reported, not raised.
        deleted: set[int] = set()
        with ThreadPoolExecutor(1) as puts:
            put = functools.partial(self.catalog.put_clips_audio, list(kept.items()))
            stored = puts.submit(self._retry, put, self.lost) if kept else None
            if vectors:
                self._retry(lambda: self.index.upsert_many(collection.name, list(vectors.values())), self.lost)
            if stored is not None:
                deleted = stored.result()
        if deleted:
            self.catalog.get_collection(self.job.collection)  # dropped meanwhile: the job fails, COLLECTION_NOT_FOUND
            completed = [
                CompletedFile(file.ordinal, FileOutcome.FAILED, error=CLIP_DELETED) if file.clip_id in deleted else file
                for file in completed
            ]
        job = self._retry(lambda: self.records.complete(job_id, holder, completed), self.lost)
        if job.state is JobState.CANCELLING:
            self.cancel()

    def _request_id(self, file: ImportFile) -> str:
        """The same for every attempt at this file of this job: a resumed run finds the record it created."""
        return f"import-{self.job.id}-{file.ordinal}"

    def _retry(self, call: Callable[[], T], give_up: threading.Event) -> T:
        """Call, waiting out transient errors with a doubling back-off up to retry_seconds; _Stopped if `give_up`
        is set meanwhile."""
        deadline = time.monotonic() + self.settings.retry_seconds
        delay = 0.05
        while True:
            try:
                return call()
            except errors.AudioSearchError as error:
                if error.code_name not in TRANSIENT or time.monotonic() + delay > deadline:
                    raise
                log.info("retrying", extra=log_fields(job_id=self.job.id, code=error.code_name, reason=error.reason))
            if give_up.wait(delay):
                raise _Stopped()
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)
