"""Import jobs in the gateway: the public resource (create, get, list, cancel, watch, failures) and the runner that
leases jobs from the metadata store and runs them (gateway/import_pipeline.py), one at a time per gateway.

Every gateway polls for runnable jobs: QUEUED ones, and those whose holder's lease expired (a gateway that died).
The gateway that creates a job wakes its own runner at once, so a job starts without waiting for the poll.
"""

import dataclasses
import logging
import os
import pathlib
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Protocol

from audiosearch.runtime import domain, paths, rules
from audiosearch.runtime.import_jobs import FileOutcome, ImportFile, ImportJob, JobState
from audiosearch.runtime.logs import log_fields
from audiosearch.sdk import errors
from gateway.core import ImportProgress
from gateway.import_pipeline import ImportRun

log = logging.getLogger("audiosearch.gateway.import")

WATCH_INTERVAL_SECONDS = 0.25
FILES_PAGE = 1000


class JobStore(Protocol):
    def create(self, job: ImportJob, request_id: str) -> ImportJob: ...
    def get(self, job_id: int) -> ImportJob: ...
    def list_jobs(self, page_size: int, page_token: str) -> tuple[list[ImportJob], str]: ...
    def cancel(self, job_id: int) -> ImportJob: ...
    def claim(self, holder: str, lease_seconds: float) -> ImportJob | None: ...
    def files(self, job_id: int, after_ordinal: int, page_size: int, which: str) -> list[ImportFile]: ...


class JobCatalog(Protocol):
    def get_collection(self, name: str) -> domain.Collection: ...
    def batch_get_clips(self, clip_ids: list[int]) -> list[domain.Clip]: ...


def new_holder() -> str:
    """This gateway's name as a lease holder: unique per process, readable in `jobs list`."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class JobRunner:
    """Claims runnable jobs and runs them one at a time on a daemon thread, until stopped."""

    def __init__(
        self,
        records: JobStore,
        make_run: Callable[[ImportJob, str], ImportRun],
        holder: str,
        lease_seconds: float,
        poll_seconds: float,
    ) -> None:
        self.records = records
        self.make_run = make_run
        self.holder = holder
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._current: ImportRun | None = None

    def start(self) -> "JobRunner":
        with self._guard:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, daemon=True, name="import-runner")
                self._thread.start()
        return self

    def wake(self) -> None:
        """Look for a job now (a job was just created here)."""
        self.start()
        self._wake.set()

    def cancel_local(self, job_id: int) -> None:
        """Stop the job at once when this gateway runs it (others see the cancel at their next lease renewal)."""
        with self._guard:
            current = self._current
        if current is not None and current.job.id == job_id:
            current.cancel()

    def stop(self) -> None:
        """Stop claiming; the running job stops and keeps its state for the next holder (after its lease ends)."""
        self._closed.set()
        self._wake.set()
        with self._guard:
            current = self._current
        if current is not None:
            current.stop.set()

    def _loop(self) -> None:
        while not self._closed.is_set():
            try:
                job = self.records.claim(self.holder, self.lease_seconds)
            except errors.AudioSearchError as error:
                log.warning("cannot claim import jobs", extra=log_fields(code=error.code_name, reason=error.reason))
                job = None
            except ValueError:  # the channel was closed: this gateway is going away
                return
            except Exception:  # noqa: BLE001 - the runner must outlive a bad reply; it tries again at the next poll
                log.exception("claiming import jobs crashed")
                job = None
            if job is not None:
                self._run(job)
                continue
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def _run(self, job: ImportJob) -> None:
        run = self.make_run(job, self.holder)
        with self._guard:
            self._current = run
        if self._closed.is_set():
            run.stop.set()
        log.info("import job started", extra=log_fields(job_id=job.id, holder=self.holder))
        try:
            run.run()
        except Exception:  # noqa: BLE001 - the runner must outlive any one job; its lease expires, it is retried
            log.exception("import job crashed", extra=log_fields(job_id=job.id))
        finally:
            with self._guard:
                self._current = None


def job_error(job: ImportJob) -> errors.AudioSearchError:
    """What stopped a FAILED job, as the error it was ("CODE REASON: message"), so ImportDirectory ends as a
    sequential import did (a collection dropped meanwhile: NOT_FOUND, COLLECTION_NOT_FOUND)."""
    head, _, message = job.error.partition(": ")
    code, _, reason = head.partition(" ")
    error_class = errors.ERRORS_BY_CODE_NAME.get(code, errors.FailedPrecondition)
    return error_class(message or f"import job {job.id} failed", reason or "IMPORT_JOB_FAILED", job_id=str(job.id))


def with_rate(job: ImportJob, now: datetime | None = None) -> ImportJob:
    """The job with files/s since it started and the seconds left at that rate (0 while unknown)."""
    if job.start_time is None or not job.files_done:
        return job
    elapsed = ((job.end_time or now or datetime.now(UTC)) - job.start_time).total_seconds()
    if elapsed <= 0:
        return job
    rate = job.files_done / elapsed
    left = max(job.files_found - job.files_done, 0)
    eta = left / rate if job.listing_done and not job.state.finished else 0.0
    return dataclasses.replace(job, files_per_second=rate, eta_seconds=eta)


class ImportJobs:
    """The public import-job resource; jobs run in whichever gateway holds their lease."""

    def __init__(
        self, records: JobStore, catalog: JobCatalog, runner: JobRunner, import_roots: tuple[str, ...] = ()
    ) -> None:
        self.records = records
        self.catalog = catalog
        self.runner = runner
        self.import_roots = import_roots

    def create(
        self,
        collection: str,
        path: str,
        recursive: bool,
        labels: domain.Labels,
        label_from_parent: bool,
        request_id: str = "",
    ) -> ImportJob:
        """A QUEUED job to import the folder (below the import roots) into the collection; returned at once."""
        labels = rules.valid_labels(labels)
        self.catalog.get_collection(collection)
        folder = paths.resolve_inside(path, self.import_roots)
        if not folder.is_dir():
            raise errors.InvalidArgument(f"{path} is not a folder", "NOT_A_FOLDER")
        draft = ImportJob(0, collection, str(folder), recursive, labels, label_from_parent)
        job = self.records.create(draft, request_id)
        self.runner.wake()
        return with_rate(job)

    def get(self, job_id: int) -> ImportJob:
        return with_rate(self.records.get(job_id))

    def list_jobs(self, page_size: int, page_token: str) -> tuple[list[ImportJob], str]:
        jobs, token = self.records.list_jobs(page_size, page_token)
        return [with_rate(job) for job in jobs], token

    def cancel(self, job_id: int) -> ImportJob:
        """Ask the job to stop: in-flight files finish, none starts; CANCELLED once its gateway has stopped it."""
        job = self.records.cancel(job_id)
        self.runner.cancel_local(job_id)
        return with_rate(job)

    def watch(self, job_id: int, active: Callable[[], bool] = lambda: True) -> Iterator[ImportJob]:
        """The job now and at each change of its state or counts, until it finishes (or the caller leaves)."""
        seen = None
        pause = threading.Event()
        while active():
            job = self.get(job_id)
            key = (job.state, job.files_found, job.files_done, job.holder)
            if key != seen:
                seen = key
                yield job
            if job.state.finished:
                return
            pause.wait(WATCH_INTERVAL_SECONDS)

    def failures(self, job_id: int, page_size: int, page_token: str) -> tuple[list[ImportFile], str]:
        """One page of the job's failed files in listing order, and the next page's token."""
        self.records.get(job_id)
        size = min(page_size or 50, FILES_PAGE)
        if page_size < 0:
            raise errors.InvalidArgument(f"page_size must be >= 0, not {page_size}", "INVALID_ARGUMENT")
        if page_token and not page_token.isdigit():
            raise errors.InvalidArgument(
                "page_token is not one this service issued; pass next_page_token, or '' to start", "INVALID_PAGE_TOKEN"
            )
        files = self.records.files(job_id, int(page_token or -1), size + 1, "FAILED")
        more = len(files) > size
        files = files[:size]
        return files, str(files[-1].ordinal) if more else ""

    def import_directory(
        self, collection: str, path: str, recursive: bool, labels: domain.Labels, label_from_parent: bool
    ) -> Iterator[ImportProgress]:
        """ImportDirectory: a job, watched file by file in listing order (the job goes on if the caller leaves)."""
        job = self.create(collection, path, recursive, labels, label_from_parent)
        folder = pathlib.Path(job.path)
        cursor, done, pause = -1, 0, threading.Event()
        while True:
            job = self.records.get(job.id)
            finished = job.state.finished  # read before the files: what it says covers every file listed after
            files = self._done_prefix(job.id, cursor)
            clips = self._clips([file.clip_id for file in files if file.clip_id])
            for file in files:
                done += 1
                outcome = file.outcome or FileOutcome.FAILED
                clip = clips.get(file.clip_id) if outcome is not FileOutcome.FAILED else None
                yield ImportProgress(str(folder / file.path), outcome.value, clip, file.error, done, job.files_found)
                cursor = file.ordinal
            if finished and not files:
                if job.state is JobState.FAILED:
                    raise job_error(job)
                return
            if not files:
                pause.wait(WATCH_INTERVAL_SECONDS)

    def _done_prefix(self, job_id: int, cursor: int) -> list[ImportFile]:
        """The files after `cursor` that have an outcome, up to the first that has none."""
        files = self.records.files(job_id, cursor, FILES_PAGE, "")
        for index, file in enumerate(files):
            if file.outcome is None:
                return files[:index]
        return files

    def _clips(self, clip_ids: list[int]) -> dict[int, domain.Clip]:
        return {clip.id: clip for clip in self.catalog.batch_get_clips(clip_ids)} if clip_ids else {}
