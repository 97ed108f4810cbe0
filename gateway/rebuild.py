"""RebuildCollection (issue #16): a collection's clips re-embedded from their kept audio with another model, as an
import job whose files are the collection's clips in id order (each file's path is its clip id).

The job fills a vector collection of its own (rules.rebuild_vectors_name) while the collection keeps serving with its
old model and vectors. When every clip is done, the collection's name is switched: first the search service points
the name at the new vectors (a Milvus alias, dropping the old vectors), then one metadata transaction sets the
collection's model and windows and ends the job SUCCEEDED. Both steps are idempotent, so a job resumed after a crash
between them finishes the switch. A cancel (or a failure) drops the new vectors and leaves the collection as it was;
a cancel that arrives once the vectors are switched finishes the rebuild instead. Clip ids, labels and sources do not
change: the clip records stay where they are, only their vectors are new.
"""

import dataclasses
import functools
import logging
from collections.abc import Callable, Iterator
from typing import Protocol

from audiosearch.runtime import domain, rules
from audiosearch.runtime.import_jobs import CompletedFile, FileOutcome, ImportFile, ImportJob, JobState, Rebuild
from audiosearch.runtime.logs import log_fields
from audiosearch.sdk import errors
from gateway.import_jobs import ImportJobs, JobCatalog, with_rate
from gateway.import_pipeline import (
    LISTING_CHUNK,
    PENDING_PAGE,
    ImportCatalog,
    ImportEmbedder,
    ImportIndex,
    ImportRun,
    JobRecords,
    PipelineSettings,
    _Prepared,
    _Stopped,
)

log = logging.getLogger("audiosearch.gateway.rebuild")

CLIPS_PAGE = 1000


class KeptAudio(Protocol):
    def read_clip_audio(self, clip_id: int) -> tuple[domain.AudioBlob, Iterator[bytes]]: ...


class RebuildIndex(ImportIndex, Protocol):
    def ensure_collection(self, name: str, dimension: int, metric: str, index_type: str) -> None: ...
    def drop_collection(self, name: str) -> bool: ...
    def switch_collection(self, collection: str, target: str) -> bool: ...


class RebuildCatalog(ImportCatalog, Protocol):
    def batch_get_clips(self, clip_ids: list[int]) -> list[domain.Clip]: ...
    def list_clips_in_state(
        self, collection: str, state: domain.ClipState, page_size: int, page_token: str
    ) -> tuple[list[domain.Clip], str]: ...


class Rebuilds:
    """Creates rebuild jobs; the import-job machinery (gateway/import_jobs.py) lists, watches and cancels them."""

    def __init__(self, jobs: ImportJobs, catalog: JobCatalog, model_info: Callable[[str], domain.ModelInfo]) -> None:
        self.jobs = jobs
        self.catalog = catalog
        self.model_info = model_info

    def create(
        self, collection: str, model: str, segments: domain.SegmentOptions | None, request_id: str = ""
    ) -> ImportJob:
        """A QUEUED job that re-embeds the collection's READY clips with `model` (and `segments`, or the
        collection's windows); returned at once."""
        found = self.catalog.get_collection(collection)
        if found.purpose == "SPEAKERS":  # its speaker index (centroids, cohorts) is made of the old model's vectors
            raise errors.FailedPrecondition(
                f"collection {collection!r} is a speakers collection: its speaker index is not rebuilt with the clips;"
                " enroll the speakers into a new collection with the new model instead",
                "REBUILD_UNSUPPORTED",
                collection=collection,
            )
        info = self.model_info(model)
        windows = found.segments if segments is None else segments
        rules.check_segments(windows, info.min_duration_seconds)
        rebuild = Rebuild(info.name, info.dimension, info.metric, windows)
        job = self.jobs.records.create(ImportJob(0, found.name, "", rebuild=rebuild), request_id)
        self.jobs.runner.wake()
        return with_rate(job)


class RebuildRun(ImportRun):
    """One run of a rebuild job in this gateway (ImportRun's lease, pipeline, writer, retries and cancel)."""

    def __init__(
        self,
        job: ImportJob,
        holder: str,
        records: JobRecords,
        embedder: ImportEmbedder,
        index: RebuildIndex,
        catalog: RebuildCatalog,
        settings: PipelineSettings,
        audio: KeptAudio,
    ) -> None:
        super().__init__(job, holder, records, embedder, index, catalog, settings)
        assert job.rebuild is not None
        self.rebuild: Rebuild = job.rebuild
        self.index: RebuildIndex = index
        self.catalog: RebuildCatalog = catalog
        self.audio = audio

    def _collection(self) -> domain.Collection:
        """The new vectors, made if absent (idempotent: a resumed run finds them), as the collection they become."""
        self.catalog.get_collection(self.job.collection)  # dropped meanwhile: the job fails (NOT_FOUND)
        rebuild = self.rebuild
        self._retry(
            lambda: self.index.ensure_collection(rebuild.vector_collection, rebuild.dimension, rebuild.metric, ""),
            self.stop,
        )
        return domain.Collection(rebuild.vector_collection, rebuild.model, rebuild.dimension, rebuild.metric,
                                 rebuild.segments)  # fmt: skip

    # Listing: the collection's READY clips in id order, after those already listed (a resumed listing, or the
    # clips ingested while the job ran).

    def _list(self) -> None:
        self._list_after(self._last_listed())

    def _last_listed(self) -> int:
        found = self.job.files_found
        last = self._retry(lambda: self.records.files(self.job.id, found - 2, 1, ""), self.lost) if found else []
        return int(last[0].path) if last else 0

    def _list_after(self, after_id: int) -> int:
        """Add the READY clips after `after_id` to the job's files; returns how many were added."""
        ordinal, added = self.job.files_found, 0
        batch: list[str] = []
        for clip_id in self._ready_clip_ids(after_id):
            batch.append(str(clip_id))
            if len(batch) == LISTING_CHUNK:
                ordinal, added = self._add_files(ordinal, batch, False), added + len(batch)
                batch = []
        self._add_files(ordinal, batch, True)
        return added + len(batch)

    def _add_files(self, ordinal: int, names: list[str], done: bool) -> int:
        add = functools.partial(self.records.add_files, self.job.id, self.holder, ordinal, names, done)
        self.job = self._retry(add, self.lost)
        return self.job.files_found

    def _ready_clip_ids(self, after_id: int) -> Iterator[int]:
        token = ""
        while True:
            page = functools.partial(
                self.catalog.list_clips_in_state, self.job.collection, domain.ClipState.READY, CLIPS_PAGE, token
            )
            clips, token = self._retry(page, self.lost)
            yield from (clip.id for clip in clips if clip.id > after_id)
            if not token:
                return

    def _process(self, collection: domain.Collection) -> None:
        """Every listed clip; then the clips ingested meanwhile, until a listing finds none (then the switch)."""
        while True:
            super()._process(collection)
            if self.stop.is_set() or self._write_error is not None or not self._list_after(self._last_listed()):
                return

    # Each clip: its kept audio, embedded with the new model; written to the new vectors with its labels.

    def _prepare(self, collection: domain.Collection, file: ImportFile) -> _Prepared | None:
        if self.stop.is_set():
            return None
        clip_id = int(file.path)
        try:
            content = self._retry(lambda: b"".join(self.audio.read_clip_audio(clip_id)[1]), self.stop)
            _, segments = self._retry(
                lambda: self.embedder.embed(collection.model, content, collection.segments), self.stop
            )
        except errors.AudioSearchError as error:
            return _Prepared(file, FileOutcome.FAILED, error=f"{error.code_name}: {error.message}")
        return _Prepared(file, FileOutcome.ADDED, clip_id, segments=segments)

    def _write(self, collection: domain.Collection, batch: list[_Prepared]) -> None:
        job_id, holder = self.job.id, self.holder
        embedded = [item.clip_id for item in batch if item.outcome is FileOutcome.ADDED]
        clips = {clip.id: clip for clip in self._retry(lambda: self.catalog.batch_get_clips(embedded), self.lost)}
        completed, vectors = [], []
        for item in batch:
            clip = clips.get(item.clip_id)
            if item.outcome is FileOutcome.ADDED and clip is None:
                item = dataclasses.replace(
                    item, outcome=FileOutcome.FAILED, error="NOT_FOUND: the clip was deleted during the rebuild"
                )
            elif clip is not None:
                vectors.append(domain.ClipVectors(clip.id, clip.labels, clip.audio.duration_seconds, item.segments))
            completed.append(CompletedFile(item.file.ordinal, item.outcome, item.clip_id, 0, item.error))
        if vectors:
            self._retry(lambda: self.index.upsert_many(collection.name, vectors), self.lost)
        job = self._retry(lambda: self.records.complete(job_id, holder, completed), self.lost)
        if job.state is JobState.CANCELLING:
            self.cancel()

    # The end: switch (SUCCEEDED), or drop the new vectors (CANCELLED, FAILED).

    def _finish(self, state: JobState, error: str) -> None:
        vectors = self.rebuild.vector_collection
        if state is JobState.SUCCEEDED and (missing := self._clips_left_behind()):
            state = JobState.FAILED
            error = (
                f"FAILED_PRECONDITION REBUILD_INCOMPLETE: {missing} clips could not be re-embedded (see the job's"
                " failures); the collection keeps its model and vectors: delete or re-upload those clips and rebuild"
            )
        if state is not JobState.SUCCEEDED:
            try:
                self.index.drop_collection(vectors)
            except errors.AudioSearchError as failure:
                if failure.reason != "VECTORS_IN_USE":
                    raise
                state, error = JobState.SUCCEEDED, ""  # switched before the cancel came: the rebuild is done
                log.info("rebuild already switched; finishing it", extra=log_fields(job_id=self.job.id))
        if state is JobState.SUCCEEDED:
            self.catalog.get_collection(self.job.collection)  # dropped meanwhile: no name to switch (the job fails)
            try:
                self._retry(lambda: self.index.switch_collection(self.job.collection, vectors), self.lost)
            except _Stopped:
                return
        super()._finish(state, error)

    def _clips_left_behind(self) -> int:
        """Failed clips that still exist (a clip deleted during the rebuild is not missed): switching would leave
        them without vectors, unsearchable."""
        missing, cursor = 0, -1
        while True:
            page = functools.partial(self.records.files, self.job.id, cursor, PENDING_PAGE, "FAILED")
            failed = self._retry(page, self.lost)
            if not failed:
                return missing
            missing += sum(1 for file in failed if not file.error.startswith("NOT_FOUND"))
            cursor = failed[-1].ordinal
