"""Import jobs: the domain types (plain data) and their proto converters, both directions side by side.

Kept beside convert.py rather than inside it so the job resource reads as one unit; the shared messages (labels,
times) go through convert.py's converters.
"""

import dataclasses
import enum
from datetime import datetime

from audiosearch.runtime import convert, domain
from audiosearch.type.v1 import import_job_pb2 as pb2


class JobState(enum.Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    CANCELLING = "CANCELLING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def finished(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class FileOutcome(enum.Enum):
    ADDED = "ADDED"
    DUPLICATE = "DUPLICATE"
    FAILED = "FAILED"


@dataclasses.dataclass(frozen=True)
class Rebuild:
    """What a rebuild job re-embeds its collection's clips with, and the vector collection it fills until the
    switch (rules.rebuild_vectors_name)."""

    model: str
    dimension: int
    metric: str
    segments: domain.SegmentOptions = domain.SegmentOptions()
    vector_collection: str = ""


@dataclasses.dataclass(frozen=True)
class ImportJob:
    id: int
    collection: str
    # The folder; '' for a rebuild, whose files are the collection's clips (each file's path is its clip id).
    path: str
    recursive: bool = False
    labels: domain.Labels = domain.Labels()
    label_from_parent: bool = False
    state: JobState = JobState.QUEUED
    files_found: int = 0
    listing_done: bool = False
    files_added: int = 0
    files_duplicate: int = 0
    files_failed: int = 0
    files_per_second: float = 0.0
    eta_seconds: float = 0.0
    error: str = ""
    holder: str = ""
    lease_expire_time: datetime | None = None
    create_time: datetime | None = None
    update_time: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    rebuild: Rebuild | None = None

    @property
    def files_done(self) -> int:
        return self.files_added + self.files_duplicate + self.files_failed


@dataclasses.dataclass(frozen=True)
class ImportFile:
    """One file of a job's listing; outcome None while not yet done."""

    ordinal: int
    path: str
    outcome: FileOutcome | None = None
    clip_id: int = 0
    error: str = ""


@dataclasses.dataclass(frozen=True)
class CompletedFile:
    """A file's outcome as the gateway reports it; ready_segment_count > 0 marks its clip READY with it."""

    ordinal: int
    outcome: FileOutcome
    clip_id: int = 0
    ready_segment_count: int = 0
    error: str = ""


_JOB_STATES = {state: pb2.ImportJobState.Value(f"IMPORT_JOB_STATE_{state.value}") for state in JobState}
_OUTCOMES = {outcome: pb2.ImportFileOutcome.Value(f"IMPORT_FILE_OUTCOME_{outcome.value}") for outcome in FileOutcome}


def state_to_proto(state: JobState) -> pb2.ImportJobState:
    return _JOB_STATES[state]


def state_from_proto(value: int) -> JobState | None:
    return next((state for state, number in _JOB_STATES.items() if number == value), None)


def outcome_to_proto(outcome: FileOutcome | None) -> pb2.ImportFileOutcome:
    return _OUTCOMES[outcome] if outcome else pb2.IMPORT_FILE_OUTCOME_UNSPECIFIED


def outcome_from_proto(value: int) -> FileOutcome | None:
    return next((outcome for outcome, number in _OUTCOMES.items() if number == value), None)


_TIMES = ("lease_expire_time", "create_time", "update_time", "start_time", "end_time")


def job_to_proto(job: ImportJob) -> pb2.ImportJob:
    message = pb2.ImportJob(
        id=job.id,
        collection=job.collection,
        recursive=job.recursive,
        labels=convert.labels_to_proto(job.labels),
        label_from_parent=job.label_from_parent,
        state=state_to_proto(job.state),
        files_found=job.files_found,
        listing_done=job.listing_done,
        files_done=job.files_done,
        files_added=job.files_added,
        files_duplicate=job.files_duplicate,
        files_failed=job.files_failed,
        files_per_second=job.files_per_second,
        eta_seconds=job.eta_seconds,
        error=job.error,
        holder=job.holder,
    )
    if job.rebuild is None:
        message.path = job.path
    else:
        message.rebuild.CopyFrom(rebuild_to_proto(job.rebuild))
    for name in _TIMES:
        convert._set_time(getattr(message, name), getattr(job, name))
    return message


def job_from_proto(message: pb2.ImportJob) -> ImportJob:
    return ImportJob(
        id=message.id,
        collection=message.collection,
        path=message.path,
        recursive=message.recursive,
        labels=convert.labels_from_proto(message.labels),
        label_from_parent=message.label_from_parent,
        state=state_from_proto(message.state) or JobState.QUEUED,
        files_found=message.files_found,
        listing_done=message.listing_done,
        files_added=message.files_added,
        files_duplicate=message.files_duplicate,
        files_failed=message.files_failed,
        files_per_second=message.files_per_second,
        eta_seconds=message.eta_seconds,
        error=message.error,
        holder=message.holder,
        **{name: convert._get_time(message, name) for name in _TIMES},
        rebuild=rebuild_from_proto(message.rebuild) if message.HasField("rebuild") else None,
    )


def rebuild_to_proto(rebuild: Rebuild) -> pb2.CollectionRebuild:
    return pb2.CollectionRebuild(
        model=rebuild.model,
        segments=convert.segments_to_proto(rebuild.segments),
        dimension=rebuild.dimension,
        metric=convert.metric_to_proto(rebuild.metric),
        vector_collection=rebuild.vector_collection,
    )


def rebuild_from_proto(message: pb2.CollectionRebuild) -> Rebuild:
    return Rebuild(
        model=message.model,
        dimension=message.dimension,
        metric=convert.metric_from_proto(message.metric),
        segments=convert.segments_from_proto(message.segments),
        vector_collection=message.vector_collection,
    )


def file_to_proto(file: ImportFile) -> pb2.ImportJobFile:
    return pb2.ImportJobFile(
        ordinal=file.ordinal,
        path=file.path,
        outcome=outcome_to_proto(file.outcome),
        clip_id=file.clip_id,
        error=file.error,
    )


def file_from_proto(message: pb2.ImportJobFile) -> ImportFile:
    return ImportFile(
        ordinal=message.ordinal,
        path=message.path,
        outcome=outcome_from_proto(message.outcome),
        clip_id=message.clip_id,
        error=message.error,
    )
