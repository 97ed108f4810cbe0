"""Acknowledged vector writes survive a SIGKILL: of the search service on Milvus Lite (in-process), and of a Milvus
server under a running search service.

Clients upsert from several threads at once, as the gateway does. Milvus Lite's engine is single-writer: before the
search store serialised its writes, concurrent upserts tore records in Lite's write-ahead log, and a restart
dropped every row after the first torn one (this test lost hundreds of acknowledged clips out of 320).
"""

import concurrent.futures
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from audiosearch.search.v1 import search_service_pb2 as pb
from audiosearch.search.v1 import search_service_pb2_grpc as pb_grpc

from milvus_support import require_milvus_server_package

ROOT = pathlib.Path(__file__).resolve().parents[2]

COLLECTION = "durable"
DIMENSION = 32
THREADS = 8
CLIPS = 320


class SearchProcess:
    """The search service as a child process in its own group, restartable on the same port."""

    def __init__(self, milvus_uri: str, log_path: pathlib.Path) -> None:
        self.milvus_uri = milvus_uri
        self.log_path = log_path
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "SearchProcess":
        env = {
            **os.environ,
            "AUDIOSEARCH_SEARCH_MILVUS_URI": self.milvus_uri,
            "AUDIOSEARCH_SEARCH_LISTEN": f"127.0.0.1:{self.port}",
        }
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "search_service.server"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=log_file,
                text=True,
                start_new_session=True,
            )
        for line in self.process.stdout:
            if match := re.search(r"listening on port (\d+)", line):
                self.port = int(match.group(1))
                break
        else:
            raise RuntimeError(f"the search service exited during start; see {self.log_path}")
        with grpc.insecure_channel(self.address) as channel:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=60, wait_for_ready=True)
        return self

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def _vectors(clip_id: int) -> pb.ClipVectors:
    values = [float((clip_id * 7 + index) % 13) + 1.0 for index in range(DIMENSION)]
    segment = pb.Segment(vector=pb.Vector(values=values), start_seconds=0.0, end_seconds=1.0)
    return pb.ClipVectors(clip_id=clip_id, duration_seconds=1.0, segments=[segment])


def _write_concurrently(address: str, retry_unavailable: bool = False) -> tuple[set[int], set[int]]:
    """Upsert CLIPS clips from THREADS threads, then delete every fifth one; returns (acknowledged, deleted)."""
    with grpc.insecure_channel(address) as channel:
        stub = pb_grpc.SearchServiceStub(channel)
        stub.EnsureCollection(pb.EnsureCollectionRequest(collection=COLLECTION, dimension=DIMENSION), timeout=60)

        def call(method, request):
            for _ in range(120):
                try:
                    return method(request, timeout=30, wait_for_ready=True)
                except grpc.RpcError as error:
                    if not (retry_unavailable and error.code() == grpc.StatusCode.UNAVAILABLE):
                        raise
                    time.sleep(0.5)
            raise AssertionError("still UNAVAILABLE after 60 s")

        def upsert(clip_id: int) -> int:
            call(stub.Upsert, pb.UpsertRequest(collection=COLLECTION, clips=[_vectors(clip_id)]))
            return clip_id

        def delete(clip_id: int) -> int:
            call(stub.Delete, pb.DeleteRequest(collection=COLLECTION, clip_ids=[clip_id]))
            return clip_id

        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            acknowledged = set(pool.map(upsert, range(1, CLIPS + 1)))
            deleted = set(pool.map(delete, range(5, CLIPS + 1, 5)))
    return acknowledged, deleted


def _clip_ids(address: str) -> list[int]:
    with grpc.insecure_channel(address) as channel:
        stub = pb_grpc.SearchServiceStub(channel)
        batches = stub.ListClipIds(pb.ListClipIdsRequest(collection=COLLECTION), timeout=60, wait_for_ready=True)
        return [clip_id for batch in batches for clip_id in batch.clip_ids]


def _assert_durable(ids: list[int], acknowledged: set[int], deleted: set[int]) -> None:
    """Every acknowledged upsert is listed once, and no acknowledged delete is."""
    assert len(ids) == len(set(ids))
    lost = sorted(acknowledged - deleted - set(ids))
    assert not lost, f"{len(lost)} acknowledged upserts lost: {lost[:20]}"
    assert not set(ids) & deleted, "acknowledged deletes came back"


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_acknowledged_writes_survive_a_search_service_kill_on_milvus_lite(tmp_path):
    service = SearchProcess(str(tmp_path / "vectors.db"), tmp_path / "search.log").start()
    try:
        acknowledged, deleted = _write_concurrently(service.address)
        service.kill()  # right after the last acknowledgement: no shutdown, no flush
        service.start()
        ids = _clip_ids(service.address)
    finally:
        service.stop()
    _assert_durable(ids, acknowledged, deleted)


@pytest.mark.e2e
@pytest.mark.timeout(400)
def test_acknowledged_writes_survive_a_milvus_server_kill(tmp_path):
    """SIGKILL the Milvus server right after the writes were acknowledged; the same search service (not restarted)
    answers UNAVAILABLE while it is down, and sees every acknowledged write once the server is back."""
    require_milvus_server_package()
    from audiosearch.tools.milvus_server import LocalMilvusServer

    with LocalMilvusServer(tmp_path / "milvus", port=0) as milvus:
        service = SearchProcess(milvus.uri, tmp_path / "search.log").start()
        try:
            acknowledged, deleted = _write_concurrently(service.address)
            milvus.kill()
            with grpc.insecure_channel(service.address) as channel:
                stub = pb_grpc.SearchServiceStub(channel)
                with pytest.raises(grpc.RpcError) as down:
                    stub.Count(pb.CountRequest(collection=COLLECTION), timeout=30)
            assert down.value.code() == grpc.StatusCode.UNAVAILABLE, down.value.details()
            assert "Milvus" in down.value.details()
            milvus.start()
            deadline = time.monotonic() + 120
            # The service reconnects by itself; the first calls may still meet the old channel (UNAVAILABLE) or
            # wait past their deadline while Milvus loads the collection again (DEADLINE_EXCEEDED).
            not_back_yet = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
            while True:
                try:
                    ids = _clip_ids(service.address)
                    break
                except grpc.RpcError as error:
                    if error.code() not in not_back_yet or time.monotonic() > deadline:
                        raise
                    time.sleep(1)
        finally:
            service.stop()
    _assert_durable(ids, acknowledged, deleted)
