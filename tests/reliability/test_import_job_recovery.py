"""Import jobs survive their gateway: the four services as processes, a gateway SIGKILLed in the middle of a job.

1. One gateway, killed and started again: the job finishes by itself, every file is in the collection exactly once,
   the job's counts add up, and the metadata and vector stores agree.
2. Two gateways on one metadata store: the job runs in one of them (its lease holder), and when that one is killed
   the other takes the job over once the lease expires, and finishes it.
"""

import contextlib
import os
import pathlib
import signal
import subprocess
import sys

import grpc
import pytest

from audiosearch.client import AudioSearchClient
from audiosearch.search.v1 import search_service_pb2 as search_pb2
from audiosearch.search.v1 import search_service_pb2_grpc as search_grpc
from audiosearch.tools import synth
from audiosearch.tools.launcher import SERVICES, Stack, announced_port
from audiosearch.type.v1 import import_job_pb2, types_pb2

State = import_job_pb2.ImportJobState
COLLECTION = "imports"
# A short lease and poll, so a takeover takes seconds; two embeds at a time and small batches, so a kill lands
# between the steps of some batch.
ENV = {
    "AUDIOSEARCH_GATEWAY_IMPORT_LEASE_SECONDS": "2",
    "AUDIOSEARCH_GATEWAY_IMPORT_POLL_SECONDS": "0.2",
    "AUDIOSEARCH_GATEWAY_IMPORT_CONCURRENCY": "2",
    "AUDIOSEARCH_GATEWAY_IMPORT_BATCH_SIZE": "8",
    "AUDIOSEARCH_GATEWAY_GRACE_SECONDS": "1",
}
TIMEOUT = 120


def make_library(root: pathlib.Path, count: int) -> list[str]:
    names = []
    for seed in range(count):
        name = f"clip_{seed:04}.wav"
        sound_class = synth.CLASSES[seed % len(synth.CLASSES)]
        (root / name).write_bytes(synth.encode(synth.generate(sound_class, 30_000 + seed, 0.5, 16000), 16000, ".wav"))
        names.append(name)
    return names


def watch_until(client: AudioSearchClient, job_id: int, done: int) -> import_job_pb2.ImportJob:
    """The job as soon as `done` files are done (or it ended)."""
    for job in client.watch_import_job(job_id, timeout_seconds=TIMEOUT):
        if job.files_done >= done:
            return job
    return job


def holder_pid(job: import_job_pb2.ImportJob) -> int:
    return int(job.holder.split(":")[1])  # host:pid:random (gateway/import_jobs.py new_holder)


def assert_imported_once(stack: Stack, client: AudioSearchClient, job: import_job_pb2.ImportJob, names: list[str]):
    assert job.state == State.IMPORT_JOB_STATE_SUCCEEDED, job.error
    assert (job.files_found, job.files_done, job.files_added) == (len(names), len(names), len(names))
    assert job.files_duplicate == job.files_failed == 0
    clips = list(client.list_clips(COLLECTION))
    assert sorted(clip.source for clip in clips) == names  # every file exactly once
    assert {clip.state for clip in clips} == {types_pb2.CLIP_STATE_READY}
    with grpc.insecure_channel(stack.services["search"].address) as channel:
        batches = search_grpc.SearchServiceStub(channel).ListClipIds(
            search_pb2.ListClipIdsRequest(collection=COLLECTION), timeout=TIMEOUT
        )
        vector_ids = [clip_id for batch in batches for clip_id in batch.clip_ids]
    assert sorted(vector_ids) == sorted(clip.id for clip in clips)  # the stores agree
    (row,) = [row for row in client.stats() if row.name == COLLECTION]
    assert (row.ready_clips, row.pending_clips, row.failed_clips, row.vectors) == (len(names), 0, 0, len(names))


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_a_job_resumes_by_itself_after_its_gateway_is_killed(tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    names = make_library(library, 300)
    ports = {name: 0 for name in SERVICES}
    with Stack(tmp_path / "data", ports=ports, import_roots=(str(library),), extra_env=ENV) as stack:
        with AudioSearchClient(stack.gateway_address, timeout_seconds=TIMEOUT) as client:
            client.create_collection(COLLECTION, "logmel")
            job = client.create_import_job(COLLECTION, str(library))
            running = watch_until(client, job.id, 60)
            assert running.state == State.IMPORT_JOB_STATE_RUNNING and running.files_done < len(names)

            stack.kill("gateway")
        stack.restart("gateway")

        with AudioSearchClient(stack.gateway_address, timeout_seconds=TIMEOUT) as client:
            final = list(client.watch_import_job(job.id, timeout_seconds=TIMEOUT))[-1]
            assert_imported_once(stack, client, final, names)


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_a_job_moves_to_the_other_gateway_when_its_own_is_killed(tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    # Enough files that the job still runs when the kill lands: 120 0.5-s logmel clips were all done first in 1 of
    # 2 runs (the takeover then had nothing left to take).
    names = make_library(library, 600)
    ports = {name: 0 for name in SERVICES}
    with Stack(tmp_path / "data", ports=ports, import_roots=(str(library),), extra_env=ENV) as stack:
        second = _second_gateway(stack, tmp_path / "data" / "logs" / "gateway2.log")
        try:
            gateways = {stack.services["gateway"].process.pid: stack.gateway_address, second[0].pid: second[1]}
            with AudioSearchClient(stack.gateway_address, timeout_seconds=TIMEOUT) as client:
                client.create_collection(COLLECTION, "logmel")
                job = client.create_import_job(COLLECTION, str(library))
                running = watch_until(client, job.id, 30)
            assert running.state == State.IMPORT_JOB_STATE_RUNNING and running.files_done < len(names)
            first_pid = holder_pid(running)
            assert first_pid in gateways

            os.killpg(first_pid, signal.SIGKILL)  # the holder dies; its lease is left to expire

            (other_pid,) = set(gateways) - {first_pid}
            with AudioSearchClient(gateways[other_pid], timeout_seconds=TIMEOUT) as client:
                seen = list(client.watch_import_job(job.id, timeout_seconds=TIMEOUT))
                holders = [holder_pid(item) for item in seen if item.holder]
                assert other_pid in holders and holders[-1] == other_pid
                assert_imported_once(stack, client, seen[-1], names)
        finally:
            _stop(second[0])


def _second_gateway(stack: Stack, log_path: pathlib.Path) -> tuple[subprocess.Popen, str]:
    """Another gateway process on the same three services (and so the same metadata store), on a free port."""
    env = {**stack._env("gateway"), "AUDIOSEARCH_GATEWAY_LISTEN": "127.0.0.1:0"}
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.server"],
            stdout=subprocess.PIPE,
            stderr=log_file,
            env=env,
            text=True,
            start_new_session=True,
        )
    port = announced_port("gateway2", process, log_path, 60)
    return process, f"127.0.0.1:{port}"


def _stop(process: subprocess.Popen) -> None:
    """SIGKILL the process group (what it started may outlive it), and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
