"""Import jobs through the public ImportJobService: a job runs to the end by itself with counts that add up,
bad requests are refused with a reason and create nothing, and a cancel stops a job within 2 s leaving every file
fully ingested or not at all.

A gateway of this module's own serves them (on the session's three services), so its settings are the test's.
"""

import json
import pathlib
import signal
import subprocess
import sys
import threading
import time
import uuid

import grpc
import pytest

from audiosearch.client import AudioSearchClient
from audiosearch.gateway.v1 import import_job_service_pb2 as jobs_pb2
from audiosearch.gateway.v1 import import_job_service_pb2_grpc as jobs_grpc
from audiosearch.tools import synth
from audiosearch.tools.cli.main import main as cli_main
from audiosearch.type.v1 import import_job_pb2
from embedding_service import server as embedding_server
from embedding_service.config import EmbeddingSettings
from embedding_service.models.logmel import LogMelModel
from embedding_service.models.registry import ModelRegistry
from gateway import server as gateway_server

from gateway_support import (
    LOCAL,
    TIMEOUT,
    all_clips,
    close_core,
    gateway_settings,
    own_gateway,
    rpc_error,
    start,
    stats_of,
)

State = import_job_pb2.ImportJobState


def clip_bytes(seed: int, seconds: float = 0.5) -> bytes:
    sound_class = synth.CLASSES[seed % len(synth.CLASSES)]
    return synth.encode(synth.generate(sound_class, 20_000 + seed, seconds, 16000), 16000, ".wav")


def make_folder(root: pathlib.Path, count: int) -> list[str]:
    """`count` distinct clips in root/<class>/; their paths relative to root."""
    names = []
    for seed in range(count):
        path = root / synth.CLASSES[seed % len(synth.CLASSES)] / f"clip_{seed:04}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(clip_bytes(seed))
        names.append(str(path.relative_to(root)))
    return names


@pytest.fixture(scope="module")
def jobs_root(stack) -> pathlib.Path:
    """The session gateway's import root: a gateway of the session may run this module's jobs too (every replica
    polls the one metadata store), so both read the same roots, as replicas do."""
    return stack.import_root


@pytest.fixture(scope="module")
def jobs_gateway(stack, jobs_root):
    with own_gateway(stack.addresses, jobs_root, import_concurrency=2, import_batch_size=8) as client:
        yield client


@pytest.fixture(scope="module")
def jobs_stub(jobs_gateway):
    return jobs_grpc.ImportJobServiceStub(jobs_gateway.channel)


def last(progress) -> import_job_pb2.ImportJob:
    items = list(progress)
    assert items, "the watch stream sent nothing"
    return items[-1]


def test_an_import_job_runs_by_itself_and_its_counts_add_up(jobs_root, gateway, jobs_gateway, new_collection):
    collection = new_collection("jobs")
    root = jobs_root / "job_library"
    names = make_folder(root, 12)
    (root / "tone" / "copy.wav").write_bytes(clip_bytes(0))  # the same audio as tone/clip_0000.wav
    (root / "tone" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + bytes(100))
    request_id = uuid.uuid4().hex

    job = jobs_gateway.create_import_job(collection, "job_library", label_from_parent=True, request_id=request_id)

    assert job.state == State.IMPORT_JOB_STATE_QUEUED and job.id > 0
    assert jobs_gateway.create_import_job(collection, "job_library", request_id=request_id).id == job.id
    final = last(jobs_gateway.watch_import_job(job.id, timeout_seconds=TIMEOUT))
    assert final.state == State.IMPORT_JOB_STATE_SUCCEEDED, final.error
    assert (final.files_found, final.files_done) == (14, 14) and final.listing_done
    assert (final.files_added, final.files_duplicate, final.files_failed) == (12, 1, 1)
    assert final.files_per_second > 0 and final.eta_seconds == 0 and final.holder == ""
    failures = list(jobs_gateway.import_job_failures(job.id))
    assert [(item.path, item.outcome) for item in failures] == [
        ("tone/broken.wav", import_job_pb2.IMPORT_FILE_OUTCOME_FAILED)
    ]
    assert failures[0].error.startswith("INVALID_ARGUMENT: ")
    clips = all_clips(gateway, collection)
    assert sorted(clip.source for clip in clips) == sorted(names)
    assert {clip.labels.sound_class for clip in clips} == {name.split("/")[0] for name in names}
    row = stats_of(gateway, collection)
    assert (row.ready_clips, row.pending_clips, row.failed_clips, row.vectors) == (12, 0, 0, 12)
    assert jobs_gateway.get_import_job(job.id) == final
    assert job.id in [item.id for item in jobs_gateway.list_import_jobs()]


def test_a_job_looks_contents_up_before_embedding_only_where_it_may_find_them(
    stack, jobs_root, jobs_gateway, new_collection, monkeypatch
):
    """Into an empty collection a lookup per file would find nothing (create_clips dedupes after the embed anyway);
    into one that holds the files already, each is found before its embed and none is embedded again."""
    calls = {"embed": 0, "lookup": 0}

    def counted(name, method):
        def call(*args, **kwargs):
            calls[name] += 1
            return method(*args, **kwargs)

        return call

    monkeypatch.setattr(stack.embedding_core, "embed", counted("embed", stack.embedding_core.embed))
    lookup = counted("lookup", stack.metadata_core.find_by_content_hash)
    monkeypatch.setattr(stack.metadata_core, "find_by_content_hash", lookup)
    collection = new_collection("jobs")
    make_folder(jobs_root / "looked_up", 10)

    first = last(jobs_gateway.watch_import_job(jobs_gateway.create_import_job(collection, "looked_up").id))
    assert (first.state, first.files_added) == (State.IMPORT_JOB_STATE_SUCCEEDED, 10)
    assert calls == {"embed": 10, "lookup": 0}

    again = last(jobs_gateway.watch_import_job(jobs_gateway.create_import_job(collection, "looked_up").id))
    assert (again.state, again.files_duplicate, again.files_added) == (State.IMPORT_JOB_STATE_SUCCEEDED, 10, 0)
    assert calls == {"embed": 10, "lookup": 10}


def test_a_job_keeps_exactly_its_concurrency_of_embeds_in_flight(
    stack, jobs_root, jobs_gateway, new_collection, monkeypatch
):
    """Workers read and hash the next files while the embeds run, yet never more than IMPORT_CONCURRENCY embeds go
    out at once (2 for this module's gateway): what the embedding replicas were sized for."""
    in_flight, most, guard = 0, 0, threading.Lock()
    embed = stack.embedding_core.embed

    def slow_embed(*args, **kwargs):
        nonlocal in_flight, most
        with guard:
            in_flight += 1
            most = max(most, in_flight)
        try:
            time.sleep(0.05)  # a heavier model: the embeds overlap whenever the gateway lets them
            return embed(*args, **kwargs)
        finally:
            with guard:
                in_flight -= 1

    monkeypatch.setattr(stack.embedding_core, "embed", slow_embed)
    collection = new_collection("jobs")
    make_folder(jobs_root / "bounded", 16)
    final = last(jobs_gateway.watch_import_job(jobs_gateway.create_import_job(collection, "bounded").id))
    assert (final.state, final.files_added) == (State.IMPORT_JOB_STATE_SUCCEEDED, 16)
    assert most == 2


def test_bad_import_jobs_are_refused_with_a_reason_and_create_nothing(stack, jobs_root, jobs_stub, new_collection):
    collection = new_collection("jobs")
    (jobs_root / "a_file.wav").write_bytes(clip_bytes(1))
    before = jobs_stub.ListImportJobs(jobs_pb2.ListImportJobsRequest(page_size=1000), timeout=TIMEOUT)

    def create(**fields):
        return jobs_stub.CreateImportJob(jobs_pb2.CreateImportJobRequest(**fields), timeout=TIMEOUT)

    with rpc_error(grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND"):
        create(collection="no_such_collection", path=".")
    with rpc_error(grpc.StatusCode.PERMISSION_DENIED, "PATH_OUTSIDE_ROOTS"):
        create(collection=collection, path=str(stack.outside))
    with rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "NOT_A_FOLDER"):
        create(collection=collection, path="a_file.wav")
    with rpc_error(grpc.StatusCode.NOT_FOUND, "PATH_NOT_FOUND"):
        create(collection=collection, path="no_such_folder")
    after = jobs_stub.ListImportJobs(jobs_pb2.ListImportJobsRequest(page_size=1000), timeout=TIMEOUT)
    assert [job.id for job in after.import_jobs] == [job.id for job in before.import_jobs]
    with rpc_error(grpc.StatusCode.NOT_FOUND, "IMPORT_JOB_NOT_FOUND"):
        jobs_stub.GetImportJob(jobs_pb2.GetImportJobRequest(id=10**12), timeout=TIMEOUT)
    with rpc_error(grpc.StatusCode.NOT_FOUND, "IMPORT_JOB_NOT_FOUND"):
        jobs_stub.CancelImportJob(jobs_pb2.CancelImportJobRequest(id=10**12), timeout=TIMEOUT)
    with rpc_error(grpc.StatusCode.NOT_FOUND, "IMPORT_JOB_NOT_FOUND"):
        list(jobs_stub.WatchImportJob(jobs_pb2.WatchImportJobRequest(id=10**12), timeout=TIMEOUT))
    with rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN"):
        jobs_stub.ListImportJobs(jobs_pb2.ListImportJobsRequest(page_token="not a token"), timeout=TIMEOUT)


def test_a_cancelled_job_stops_within_2_s_and_leaves_each_file_whole_or_absent(
    jobs_root, gateway, jobs_gateway, new_collection
):
    collection = new_collection("jobs")
    names = make_folder(jobs_root / "to_cancel", 300)
    job = jobs_gateway.create_import_job(collection, "to_cancel")
    for progress in jobs_gateway.watch_import_job(job.id, timeout_seconds=TIMEOUT):
        if progress.files_done >= 20:
            break
    assert progress.state == State.IMPORT_JOB_STATE_RUNNING

    cancelling = jobs_gateway.cancel_import_job(job.id)

    assert cancelling.state in (State.IMPORT_JOB_STATE_CANCELLING, State.IMPORT_JOB_STATE_CANCELLED)
    # The watch ends at the job's end; its 2-s deadline fails the test if the job is not CANCELLED by then.
    final = last(jobs_gateway.watch_import_job(job.id, timeout_seconds=2.0))
    assert final.state == State.IMPORT_JOB_STATE_CANCELLED
    assert 20 <= final.files_done < len(names) and final.files_failed == 0
    clips = all_clips(gateway, collection)
    sources = [clip.source for clip in clips]
    assert len(sources) == len(set(sources)) == final.files_added + final.files_duplicate
    assert set(sources) <= set(names)
    row = stats_of(gateway, collection)
    assert (row.ready_clips, row.pending_clips, row.failed_clips, row.vectors) == (len(clips), 0, 0, len(clips))
    assert jobs_gateway.cancel_import_job(job.id).state == State.IMPORT_JOB_STATE_CANCELLED  # idempotent


def cli(capsys, *argv: str) -> tuple[int, str]:
    """Run `audiosearch ARGV` here: (exit status, stdout)."""
    with pytest.raises(SystemExit) as exited:
        cli_main(list(argv))
    return exited.value.code or 0, capsys.readouterr().out


def test_the_cli_imports_a_folder_then_lists_watches_and_shows_failures(
    jobs_root, jobs_gateway, new_collection, capsys
):
    collection = new_collection("jobs")
    root = jobs_root / "cli_library"
    make_folder(root, 5)
    (root / "broken.wav").write_bytes(b"not audio at all")
    address = ["--address", jobs_gateway.address]

    status, out = cli(capsys, *address, "import", str(root), "-c", collection, "--label-from-parent")

    assert status == 1  # a file failed
    assert "SUCCEEDED" in out and "added 5, duplicate 0, failed 1" in out and "jobs failures" in out
    status, out = cli(capsys, *address, "--json", "jobs", "list")
    (job,) = [item for item in json.loads(out) if item["collection"] == collection]
    assert (job["state"], job["files_done"], job["files_failed"]) == ("IMPORT_JOB_STATE_SUCCEEDED", 6, 1)
    status, out = cli(capsys, *address, "--json", "jobs", "failures", str(job["id"]))
    assert [item["path"] for item in json.loads(out)] == ["broken.wav"]
    status, out = cli(capsys, *address, "jobs", "watch", str(job["id"]))
    assert status == 1 and f"job {job['id']} SUCCEEDED" in out
    status, out = cli(capsys, *address, "jobs", "cancel", str(job["id"]))
    assert status == 0 and out.strip() == f"import job {job['id']}: SUCCEEDED"  # a finished job stays as it was


def test_a_job_spreads_its_embeds_over_the_embedding_replicas(stack, jobs_root, new_collection):
    """Two embedding replicas behind one address list (round_robin): the job keeps both busy."""
    calls = {0: 0, 1: 0}
    replicas = []
    for index in calls:
        core = embedding_server.build_core(EmbeddingSettings(listen=LOCAL), ModelRegistry([LogMelModel()]))
        embed = core.embed

        def counted(*args, _index=index, _embed=embed, **kwargs):
            calls[_index] += 1
            return _embed(*args, **kwargs)

        core.embed = counted
        replicas.append(start(embedding_server.build_server(EmbeddingSettings(listen=LOCAL), core)))
    addresses = {
        **stack.addresses,
        "embedding": "ipv4:" + ",".join(f"127.0.0.1:{replica.port}" for replica in replicas),
    }
    settings = gateway_settings(addresses, jobs_root)  # import_concurrency 0: twice the two replicas
    gateway_core = gateway_server.build_core(settings)
    running = start(gateway_server.build_server(settings, gateway_core))
    collection = new_collection("jobs")
    make_folder(jobs_root / "spread", 40)
    try:
        with AudioSearchClient(f"127.0.0.1:{running.port}", timeout_seconds=TIMEOUT) as client:
            job = client.create_import_job(collection, "spread")
            final = last(client.watch_import_job(job.id, timeout_seconds=TIMEOUT))
    finally:
        running.stop(0)
        close_core(gateway_core)
        for replica in replicas:
            replica.stop(0)
    assert final.state == State.IMPORT_JOB_STATE_SUCCEEDED and final.files_added == 40
    assert sum(calls.values()) >= 40 and min(calls.values()) >= 10, calls


def test_ctrl_c_in_the_cli_leaves_the_job_running_and_says_how_to_watch_or_cancel_it(
    jobs_root, jobs_gateway, new_collection
):
    collection = new_collection("jobs")
    make_folder(jobs_root / "interrupted", 200)
    command = [sys.executable, "-m", "audiosearch.tools.cli", "--address", jobs_gateway.address]
    process = subprocess.Popen(
        [*command, "import", "interrupted", "-c", collection],
        stderr=subprocess.PIPE,
        text=True,
        # As at a terminal: a test run started in the background inherits SIGINT ignored, and so would the CLI.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    started = process.stderr.readline()  # "import job N: ..." once the job exists
    job_id = int(started.split()[2].rstrip(":"))

    process.send_signal(signal.SIGINT)

    assert process.wait(timeout=TIMEOUT) == 130
    said = process.stderr.read()
    assert f"audiosearch jobs watch {job_id}" in said and f"audiosearch jobs cancel {job_id}" in said
    final = last(jobs_gateway.watch_import_job(job_id, timeout_seconds=TIMEOUT))
    assert final.state == State.IMPORT_JOB_STATE_SUCCEEDED and final.files_added == 200
