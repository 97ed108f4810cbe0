"""Import jobs' domain logic in the metadata service: validation, pagination and errors over the job store.
No gRPC here. The gateways run the jobs; this keeps what survives them (DESIGN.md section 5, bulk ingest)."""

import math
from collections.abc import Sequence

from audiosearch.runtime import domain, rules
from audiosearch.runtime.import_jobs import CompletedFile, ImportFile, ImportJob, JobState, Rebuild
from audiosearch.sdk import errors
from audiosearch.sdk.errors import require
from metadata_service.core import (
    MetadataCore,
    _page_after,
    _page_size,
    _page_token,
    _valid_clip,
    _valid_collection,
    _valid_request_id,
)
from metadata_service.job_store import ImportJobStore

MAX_PATH_CHARS = 2048
MAX_HOLDER_CHARS = 256
MAX_LEASE_SECONDS = 3600.0
MAX_FILES_PER_CALL = 1000
FILE_FILTERS = ("PENDING", "FAILED", "")


class ImportJobCore:
    def __init__(self, jobs: ImportJobStore, clips: MetadataCore) -> None:
        self.jobs = jobs
        self.clips = clips

    def create(self, job: ImportJob, request_id: str = "") -> ImportJob:
        """Store a QUEUED job for an existing collection; the job already created under request_id if any."""
        self.clips.get_collection(job.collection)
        rebuild = _checked_rebuild(job.collection, job.rebuild) if job.rebuild else None
        if rebuild is None:
            require(0 < len(job.path) <= MAX_PATH_CHARS, f"path must have 1..{MAX_PATH_CHARS} characters")
        _valid_request_id(request_id)
        labels = rules.valid_labels(job.labels)
        draft = ImportJob(0, job.collection, job.path, job.recursive, labels, job.label_from_parent,
                          rebuild=rebuild)  # fmt: skip
        return self.jobs.insert(draft, request_id)

    def get(self, job_id: int) -> ImportJob:
        job = self.jobs.get(job_id)
        if job is None:
            raise errors.NotFound(
                f"import job {job_id} does not exist; list the import jobs to see their ids",
                "IMPORT_JOB_NOT_FOUND",
                job_id=str(job_id),
            )
        return job

    def list_jobs(self, page_size: int = 0, page_token: str = "") -> tuple[list[ImportJob], str]:
        """One page of jobs, newest first, and the next page's token ('' after the last)."""
        size = _page_size(page_size)
        after = _page_after("import_job", page_token)
        if after and not after.isdigit():
            raise errors.InvalidArgument("page_token is not one this service issued", "INVALID_PAGE_TOKEN")
        jobs = self.jobs.list_jobs(int(after or 0), size + 1)
        more = len(jobs) > size
        jobs = jobs[:size]
        return jobs, _page_token("import_job", str(jobs[-1].id)) if more else ""

    def cancel(self, job_id: int) -> ImportJob:
        self.get(job_id)
        cancelled = self.jobs.cancel(job_id)
        assert cancelled is not None
        return cancelled

    def claim(self, holder: str, lease_seconds: float) -> ImportJob | None:
        """The job now leased to `holder`, or None when no job is waiting for a gateway."""
        _check_lease(holder, lease_seconds)
        return self.jobs.claim(holder, lease_seconds)

    def renew(self, job_id: int, holder: str, lease_seconds: float) -> ImportJob:
        _check_lease(holder, lease_seconds)
        self.get(job_id)
        return self.jobs.renew(job_id, holder, lease_seconds)

    def add_files(self, job_id: int, holder: str, first_ordinal: int, paths: Sequence[str], done: bool) -> ImportJob:
        self.get(job_id)
        require(first_ordinal >= 0, f"first_ordinal must be >= 0, not {first_ordinal}")
        require(len(paths) <= MAX_FILES_PER_CALL, f"send at most {MAX_FILES_PER_CALL} paths per call")
        require(all(0 < len(path) <= MAX_PATH_CHARS for path in paths), f"paths have 1..{MAX_PATH_CHARS} characters")
        return self.jobs.add_files(job_id, holder, first_ordinal, paths, done)

    def files(self, job_id: int, after_ordinal: int, page_size: int, outcome: str) -> list[ImportFile]:
        """Files in listing order after `after_ordinal`; outcome: 'PENDING', 'FAILED' or '' (all)."""
        self.get(job_id)
        require(outcome in FILE_FILTERS, f"which files: one of PENDING, FAILED or ALL, not {outcome!r}")
        return self.jobs.files(job_id, max(after_ordinal, -1), _page_size(page_size), outcome)

    def create_clips(
        self, job_id: int, holder: str, drafts: Sequence[tuple[domain.Clip, str]]
    ) -> list[tuple[domain.Clip | None, bool, str]]:
        """Create each PENDING clip as CreateClip would: (clip, ours, error) per draft, in order. `ours` is True when
        this job created it (now, or by an earlier attempt with the same request_id, before a crash)."""
        require(len(drafts) <= MAX_FILES_PER_CALL, f"send at most {MAX_FILES_PER_CALL} clips per call")
        try:  # the usual batch in one transaction; any draft with a refusal to report goes the way of CreateClip
            valid = [(_valid_clip(draft), _valid_request_id(request_id)) for draft, request_id in drafts]
        except errors.AudioSearchError:
            valid = None
        batch = self.jobs.create_clips(job_id, holder, valid) if valid else None
        if batch is not None:
            return [(clip, ours, "") for clip, ours in batch]
        self.jobs.check_holder(job_id, holder)
        results: list[tuple[domain.Clip | None, bool, str]] = []
        for draft, request_id in drafts:
            try:
                clip, created = self.clips.create_clip(draft, request_id)
            except errors.AudioSearchError as error:
                if error.reason == "COLLECTION_NOT_FOUND":
                    raise
                results.append((None, False, f"{error.code_name}: {error.message}"))
                continue
            ours = created or self._created_by(clip, request_id)
            results.append((clip, ours, ""))
        return results

    def _created_by(self, clip: domain.Clip, request_id: str) -> bool:
        found = self.clips.store.find_clip_by_request(clip.collection, request_id) if request_id else None
        return found is not None and found.id == clip.id

    def complete(self, job_id: int, holder: str, files: Sequence[CompletedFile]) -> ImportJob:
        require(len(files) <= MAX_FILES_PER_CALL, f"send at most {MAX_FILES_PER_CALL} files per call")
        require(all(file.ready_segment_count >= 0 for file in files), "ready_segment_count must be >= 0")
        self.get(job_id)
        return self.jobs.complete(job_id, holder, files)

    def finish(self, job_id: int, holder: str, state: JobState | None, error: str) -> ImportJob:
        require(state is not None and state.finished, "a job finishes as SUCCEEDED, FAILED or CANCELLED")
        assert state is not None
        self.get(job_id)
        return self.jobs.finish(job_id, holder, state, error)


def _checked_rebuild(collection: str, rebuild: Rebuild) -> Rebuild:
    """The rebuild's model, dimension, metric and windows checked as the collection will have them after the switch."""
    valid = _valid_collection(domain.Collection(collection, rebuild.model, rebuild.dimension, rebuild.metric,
                                                rebuild.segments))  # fmt: skip
    return Rebuild(valid.model, valid.dimension, valid.metric, valid.segments)


def _check_lease(holder: str, lease_seconds: float) -> None:
    require(0 < len(holder) <= MAX_HOLDER_CHARS, f"holder must have 1..{MAX_HOLDER_CHARS} characters")
    require(
        math.isfinite(lease_seconds) and 0 < lease_seconds <= MAX_LEASE_SECONDS,
        f"lease_seconds must be more than 0 and at most {MAX_LEASE_SECONDS:.0f}, not {lease_seconds}",
    )
