"""Import jobs in the metadata store, on SQLite and MariaDB: the lease is a compare-and-set that one holder has at a
time and another takes over when it expires; a holder that lost it writes nothing; outcomes are counted once."""

import dataclasses
import time
from datetime import timedelta

import pytest

from audiosearch.runtime import domain
from audiosearch.runtime.import_jobs import CompletedFile, FileOutcome, ImportJob, JobState
from audiosearch.sdk import errors
from metadata_service.import_jobs import ImportJobCore
from metadata_service.job_store import ImportJobStore

ADDED, FAILED = FileOutcome.ADDED, FileOutcome.FAILED


@pytest.fixture
def jobs(store, core) -> ImportJobCore:
    """No job of an earlier test (the MariaDB database is the session's): they would be claimed here."""
    store._transaction(lambda sql: sql.execute("DELETE FROM import_jobs"))
    core.create_collection(domain.Collection("library", "logmel", 8))
    return ImportJobCore(ImportJobStore(store), core)


def new_job(jobs: ImportJobCore, request_id: str = "") -> ImportJob:
    return jobs.create(ImportJob(0, "library", "/imports/library", recursive=True), request_id)


def claim_when_free(jobs: ImportJobCore, holder: str) -> ImportJob:
    """Claim until the current holder's short lease has expired (bounded: the test fails past 10 s)."""
    deadline = time.monotonic() + 10
    while (job := jobs.claim(holder, 30)) is None:
        assert time.monotonic() < deadline, "the expired lease was never taken over"
    return job


def test_one_holder_at_a_time_and_a_takeover_after_expiry(jobs, clip_of):
    job = new_job(jobs)
    first = jobs.claim("gateway-a", 0.3)
    assert (first.id, first.state, first.holder) == (job.id, JobState.RUNNING, "gateway-a")
    assert jobs.claim("gateway-b", 30) is None  # the lease is live
    jobs.add_files(job.id, "gateway-a", 0, ["a.wav", "b.wav"], True)
    ((clip, ours, error),) = jobs.create_clips(job.id, "gateway-a", [(clip_of("library", 1), f"import-{job.id}-0")])
    assert ours and not error and clip.state is domain.ClipState.PENDING

    taken = claim_when_free(jobs, "gateway-b")

    assert (taken.id, taken.holder) == (job.id, "gateway-b")
    for late_write in (
        lambda: jobs.renew(job.id, "gateway-a", 30),
        lambda: jobs.complete(job.id, "gateway-a", [CompletedFile(0, ADDED, clip.id, 1)]),
        lambda: jobs.create_clips(job.id, "gateway-a", [(clip_of("library", 2), f"import-{job.id}-1")]),
        lambda: jobs.finish(job.id, "gateway-a", JobState.SUCCEEDED, ""),
    ):
        with pytest.raises(errors.FailedPrecondition) as lost:
            late_write()
        assert lost.value.reason == "LEASE_LOST"
    assert jobs.get(job.id).files_done == 0 and jobs.clips.get_clip(clip.id).state is domain.ClipState.PENDING
    # The new holder redoes the file: the record the first holder created is found by the file's request_id.
    ((again, ours, _),) = jobs.create_clips(job.id, "gateway-b", [(clip_of("library", 1), f"import-{job.id}-0")])
    assert again.id == clip.id and ours


def test_each_outcome_is_recorded_and_counted_once(jobs, clip_of):
    job = new_job(jobs)
    jobs.claim("gateway-a", 30)
    jobs.add_files(job.id, "gateway-a", 0, ["a.wav", "b.wav", "c.wav"], True)
    ((clip, _, _),) = jobs.create_clips(job.id, "gateway-a", [(clip_of("library", 1), "r0")])
    batch = [CompletedFile(0, ADDED, clip.id, 2), CompletedFile(1, FAILED, error="INVALID_ARGUMENT: not audio")]

    jobs.complete(job.id, "gateway-a", batch)
    done = jobs.complete(job.id, "gateway-a", batch)  # a retried batch

    assert (done.files_found, done.files_added, done.files_failed, done.files_done) == (3, 1, 1, 2)
    ready = jobs.clips.get_clip(clip.id)
    assert (ready.state, ready.segment_count) == (domain.ClipState.READY, 2)
    assert [file.path for file in jobs.files(job.id, -1, 10, "PENDING")] == ["c.wav"]
    assert [(file.path, file.error) for file in jobs.files(job.id, -1, 10, "FAILED")] == [
        ("b.wav", "INVALID_ARGUMENT: not audio")
    ]
    finished = jobs.finish(job.id, "gateway-a", JobState.SUCCEEDED, "")
    assert (finished.state, finished.holder, finished.end_time is not None) == (JobState.SUCCEEDED, "", True)
    assert jobs.claim("gateway-b", 30) is None  # a finished job is never claimed


def test_an_ended_jobs_file_rows_go_after_the_retention_all_but_its_failures(store, jobs, clip_of):
    """A 650k-file import must not leave 650k rows for ever: past the retention only its failures stay."""
    kept_for_ever = jobs
    pruning = ImportJobCore(ImportJobStore(store, file_retention=timedelta(0)), jobs.clips)
    job = new_job(pruning)
    pruning.claim("gateway-a", 30)
    pruning.add_files(job.id, "gateway-a", 0, ["a.wav", "b.wav", "c.wav"], True)
    ((clip, _, _),) = pruning.create_clips(job.id, "gateway-a", [(clip_of("library", 1), "r0")])
    pruning.complete(job.id, "gateway-a", [CompletedFile(0, ADDED, clip.id, 1), CompletedFile(1, FAILED, error="bad")])
    running = new_job(pruning)  # not ended: nothing of it goes
    pruning.claim("gateway-b", 30)
    pruning.add_files(running.id, "gateway-b", 0, ["d.wav"], True)
    assert len(kept_for_ever.files(job.id, -1, 10, "")) == 3

    ended = pruning.finish(job.id, "gateway-a", JobState.FAILED, "INTERNAL: stopped")

    assert [(f.path, f.error) for f in pruning.files(job.id, -1, 10, "")] == [("b.wav", "bad")]  # c.wav never ran
    assert (ended.files_found, ended.files_added, ended.files_failed) == (3, 1, 1)  # the counts stay
    assert [f.path for f in pruning.files(running.id, -1, 10, "")] == ["d.wav"]
    assert jobs.clips.get_clip(clip.id).state is domain.ClipState.READY  # the clips are the library's, not the job's


def test_cancel_and_idempotent_create_and_newest_first_pages(jobs):
    queued, running = new_job(jobs, "req-1"), new_job(jobs)
    assert new_job(jobs, "req-1").id == queued.id
    assert jobs.claim("gateway-a", 30).id == queued.id
    assert jobs.claim("gateway-a", 30).id == queued.id  # its own lease: renewed, not another job's

    assert jobs.cancel(running.id).state is JobState.CANCELLED  # never started
    assert jobs.cancel(queued.id).state is JobState.CANCELLING  # its holder stops it
    assert jobs.renew(queued.id, "gateway-a", 30).state is JobState.CANCELLING
    assert jobs.finish(queued.id, "gateway-a", JobState.CANCELLED, "").state is JobState.CANCELLED
    assert jobs.cancel(queued.id).state is JobState.CANCELLED

    page, token = jobs.list_jobs(1, "")
    rest, last = jobs.list_jobs(1, token)
    assert [job.id for job in page + rest] == [running.id, queued.id] and last == ""
    with pytest.raises(errors.NotFound) as missing:
        jobs.get(10**12)
    assert missing.value.reason == "IMPORT_JOB_NOT_FOUND"
    with pytest.raises(errors.InvalidArgument):
        jobs.claim("", 30)
    with pytest.raises(errors.InvalidArgument):
        jobs.finish(running.id, "gateway-a", JobState.RUNNING, "")


def test_a_batch_of_clips_is_created_in_one_transaction_with_create_clips_answers(jobs, store, clip_of, monkeypatch):
    job = new_job(jobs)
    jobs.claim("gateway-a", 30)
    stored, _ = jobs.clips.create_clip(clip_of("library", "stored"), "single-ingest")
    transactions = 0
    transaction = store._transaction

    def counted(work):
        nonlocal transactions
        transactions += 1
        return transaction(work)

    monkeypatch.setattr(store, "_transaction", counted)
    drafts = [(clip_of("library", seed), f"import-{job.id}-{seed}") for seed in range(20)]
    drafts += [(clip_of("library", 0), f"import-{job.id}-20"), (clip_of("library", "stored"), f"import-{job.id}-21")]

    created = jobs.create_clips(job.id, "gateway-a", drafts)

    assert transactions == 1  # not three per clip
    assert [ours for _, ours, _ in created] == [True] * 20 + [False, False]
    assert created[20][0].id == created[0][0].id and created[21][0].id == stored.id
    assert all(clip.state is domain.ClipState.PENDING and not error for clip, _, error in created)
    again = jobs.create_clips(job.id, "gateway-a", drafts)  # a retried batch finds its own clips by request_id
    assert [(clip.id, ours) for clip, ours, _ in again] == [(clip.id, ours) for clip, ours, _ in created]


def test_a_batch_with_a_refusal_answers_each_clip_as_create_clip_does(jobs, clip_of):
    job = new_job(jobs)
    jobs.claim("gateway-a", 30)
    jobs.create_clips(job.id, "gateway-a", [(clip_of("library", "first"), "taken")])
    bad_hash = dataclasses.replace(clip_of("library", 2), content_sha256="not-a-sha256")
    drafts = [(clip_of("library", 1), "r1"), (clip_of("library", "other"), "taken"), (bad_hash, "r2")]

    (fine, _, no_error), (none, _, reused), (nothing, _, invalid) = jobs.create_clips(job.id, "gateway-a", drafts)

    assert fine is not None and fine.state is domain.ClipState.PENDING and not no_error
    assert none is None and reused.startswith("FAILED_PRECONDITION: request_id 'taken' was used for other audio")
    assert nothing is None and invalid.startswith("INVALID_ARGUMENT: ")
