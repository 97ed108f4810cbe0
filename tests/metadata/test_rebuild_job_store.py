"""Rebuild jobs in the metadata store (issue #16), on SQLite and MariaDB: a rebuild is stored with its model, windows
and the vector collection named after its id; its SUCCEEDED end switches the collection's model in the same
transaction (the calibration goes); any other end, or a lost lease, leaves the collection as it was."""

import pytest

from audiosearch.runtime import domain, rules
from audiosearch.runtime.import_jobs import ImportJob, JobState, Rebuild
from audiosearch.sdk import errors
from metadata_service.import_jobs import ImportJobCore
from metadata_service.job_store import ImportJobStore

CALIBRATION = domain.Calibration(0.5, 0.01, 0.01, 0.1, 0.05, 0.4, 10, 90, "cosine")
GE2E = Rebuild("ge2e", 256, "COSINE", domain.SegmentOptions(1.5, 0.5))


@pytest.fixture
def jobs(store, core) -> ImportJobCore:
    store._transaction(lambda sql: sql.execute("DELETE FROM import_jobs"))
    core.create_collection(domain.Collection("library", "logmel", 8))
    core.set_calibration("library", CALIBRATION)
    return ImportJobCore(ImportJobStore(store), core)


def rebuild(jobs: ImportJobCore, request_id: str = "") -> ImportJob:
    return jobs.create(ImportJob(0, "library", "", rebuild=GE2E), request_id)


def test_a_rebuild_is_stored_with_its_vectors_name_and_switches_the_collection_when_it_succeeds(jobs):
    job = rebuild(jobs, "r-1")
    assert job.path == "" and job.rebuild == Rebuild("ge2e", 256, "COSINE", GE2E.segments, f"_rebuild{job.id}_library")
    assert job.rebuild.vector_collection == rules.rebuild_vectors_name("library", job.id)
    assert rebuild(jobs, "r-1").id == job.id  # the same request_id, the same job
    assert jobs.get(job.id) == job
    claimed = jobs.claim("gateway-a", 30)
    assert claimed is not None and claimed.rebuild == job.rebuild
    assert jobs.clips.get_collection("library").model == "logmel"  # until the end

    done = jobs.finish(job.id, "gateway-a", JobState.SUCCEEDED, "")

    assert done.state is JobState.SUCCEEDED
    switched = jobs.clips.get_collection("library")
    assert (switched.model, switched.dimension, switched.metric, switched.segments) == (
        "ge2e",
        256,
        "COSINE",
        GE2E.segments,
    )
    assert switched.calibration is None  # measured with the old model


@pytest.mark.parametrize("state", [JobState.CANCELLED, JobState.FAILED])
def test_any_other_end_or_a_lost_lease_leaves_the_collection_as_it_was(jobs, state):
    job = rebuild(jobs)
    jobs.claim("gateway-a", 30)
    with pytest.raises(errors.FailedPrecondition):
        jobs.finish(job.id, "gateway-b", JobState.SUCCEEDED, "")  # not the holder
    jobs.finish(job.id, "gateway-a", state, "")
    collection = jobs.clips.get_collection("library")
    assert (collection.model, collection.dimension) == ("logmel", 8) and collection.calibration is not None


@pytest.mark.parametrize(
    "bad",
    [
        Rebuild("", 256, "COSINE"),
        Rebuild("ge2e", 0, "COSINE"),
        Rebuild("ge2e", 256, "NOPE"),
        Rebuild("ge2e", 256, "COSINE", domain.SegmentOptions(float("nan"), 0.5)),
        Rebuild("ge2e", 256, "COSINE", domain.SegmentOptions(1.0, 0.0)),
    ],
)
def test_a_rebuild_the_collection_could_not_take_is_refused_and_not_stored(jobs, bad):
    with pytest.raises(errors.InvalidArgument):
        jobs.create(ImportJob(0, "library", "", rebuild=bad))
    assert jobs.list_jobs()[0] == []
