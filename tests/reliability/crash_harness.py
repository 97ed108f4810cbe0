"""Crash harness: ingests and deletes with retries while a random service is SIGKILLed and restarted, then reconcile,
then the invariants. Run alone for a report:

    .venv/bin/python tests/reliability/crash_harness.py --operations 500 --kills 20
    .venv/bin/python tests/reliability/crash_harness.py --operations 500 --kills 24 --stores servers

With `--stores servers` the stores are processes too: the metadata service on a throwaway MariaDB server of our own
(tests/reliability/throwaway_mariadb.py) and the search service on a local Milvus server, and both are among the
kill targets. Kills are spread evenly over the targets (each at least kills // targets times), in random order.
A call that fails with INTERNAL or UNKNOWN is a violation: a peer or a store being down must read UNAVAILABLE (or a
deadline), with a reason.

Invariants checked after the run: the clip ids of the metadata store and of the vector store are the same set; no
content is stored twice; no clip is left PENDING, DELETING or FAILED; every acknowledged ingest is READY and found
by a search with its own audio; every acknowledged delete is gone from both stores.
"""

import argparse
import dataclasses
import json
import pathlib
import random
import sys
import tempfile
import threading
import time
import uuid

import grpc

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from audiosearch.client import AudioSearchClient  # noqa: E402
from audiosearch.sdk import errors  # noqa: E402
from audiosearch.search.v1 import search_service_pb2 as search_pb2  # noqa: E402
from audiosearch.search.v1 import search_service_pb2_grpc as search_grpc  # noqa: E402
from audiosearch.tools import synth  # noqa: E402
from audiosearch.tools.launcher import SERVICES, Stack  # noqa: E402
from audiosearch.type.v1 import types_pb2  # noqa: E402

COLLECTION = "crash"
# What a call may meet while a peer is down or restarting; anything else is a bug and fails the run.
RETRYABLE_CODES = {"UNAVAILABLE", "DEADLINE_EXCEEDED", "ABORTED", "RESOURCE_EXHAUSTED", "INTERNAL", "UNKNOWN"}
# Retried so the run goes on, but each is a violation: an outage must say UNAVAILABLE and why, not "internal".
WRONG_CODES = {"INTERNAL", "UNKNOWN"}


@dataclasses.dataclass
class Report:
    operations: int = 0
    ingests_acknowledged: int = 0
    deletes_acknowledged: int = 0
    kills: dict = dataclasses.field(default_factory=dict)
    retries: int = 0
    retry_codes: dict = dataclasses.field(default_factory=dict)
    retry_reasons: dict = dataclasses.field(default_factory=dict)  # "CODE REASON" -> count
    reconcile: dict = dataclasses.field(default_factory=dict)
    clips_checked: int = 0
    seconds: float = 0.0
    violations: list = dataclasses.field(default_factory=list)


def clip_audio(seed: int) -> bytes:
    sound_class = synth.CLASSES[seed % len(synth.CLASSES)]
    return synth.encode(synth.generate(sound_class, 10_000 + seed, 1.0, 16000), 16000, ".wav")


class Harness:
    def __init__(
        self,
        stack: Stack,
        operations: int,
        kills: int,
        workers: int,
        seed: int,
        deadline_seconds: float,
        kill_gap: float,
        stores: dict | None = None,
    ):
        self.stack = stack
        # Extra kill targets beyond the four services: name -> (kill, restart).
        self.stores = stores or {}
        self.operations = operations
        self.kills = kills
        self.workers = workers
        self.rng = random.Random(seed)
        self.deadline = time.monotonic() + deadline_seconds
        self.report = Report()
        self.lock = threading.Lock()
        self.acknowledged: dict[int, int] = {}  # clip id -> audio seed, ingests acknowledged and not deleted
        self.deleted: set[int] = set()
        self.next_seed = 0
        self.kills_done = threading.Event()
        self.kill_gap = kill_gap

    def client(self) -> AudioSearchClient:
        return AudioSearchClient(self.stack.gateway_address, timeout_seconds=15.0)

    def _retry(self, what, call):
        """Call until it succeeds; only transient codes are retried, anything else is recorded and re-raised."""
        error = None
        for attempt in range(200):
            try:
                return call()
            except errors.AudioSearchError as failure:
                error = failure
                if error.code_name not in RETRYABLE_CODES or time.monotonic() > self.deadline:
                    raise
                with self.lock:
                    self.report.retries += 1
                    self.report.retry_codes[error.code_name] = self.report.retry_codes.get(error.code_name, 0) + 1
                    key = f"{error.code_name} {error.reason}"
                    self.report.retry_reasons[key] = self.report.retry_reasons.get(key, 0) + 1
                    if error.code_name in WRONG_CODES:
                        self.report.violations.append(f"{what} failed with {key}: {error.message}")
                time.sleep(min(2.0, 0.05 * (attempt + 1)))
        raise RuntimeError(f"{what}: still failing after 200 attempts: {error!r}")

    def _operation(self, client: AudioSearchClient) -> None:
        with self.lock:
            delete = self.acknowledged and self.rng.random() < 0.3
            if delete:
                clip_id = self.rng.choice(sorted(self.acknowledged))
                self.acknowledged.pop(clip_id)  # no other worker touches it from here on
            else:
                seed = self.next_seed
                self.next_seed += 1
        if delete:
            self._retry("delete", lambda: client.delete_clip(clip_id))
            with self.lock:
                self.deleted.add(clip_id)
                self.report.deletes_acknowledged += 1
            return
        content, request_id = clip_audio(seed), uuid.uuid4().hex
        response = self._retry(
            "ingest", lambda: client.ingest(content, COLLECTION, source=f"clip{seed}.wav", request_id=request_id)
        )
        with self.lock:
            if response.duplicate and response.clip.id in self.acknowledged:
                self.report.violations.append(f"seed {seed} came back as a duplicate of clip {response.clip.id}")
            self.acknowledged[response.clip.id] = seed
            self.report.ingests_acknowledged += 1

    def _worker(self) -> None:
        # Operations go on until there have been enough of them and every kill has happened.
        with self.client() as client:
            while True:
                with self.lock:
                    if self.report.operations >= self.operations and self.kills_done.is_set():
                        return
                    self.report.operations += 1
                self._operation(client)

    def _schedule(self) -> list[str]:
        """Every target kills // targets times, the rest drawn at random, all in random order."""
        targets = [*SERVICES, *self.stores]
        each, extra = divmod(self.kills, len(targets))
        names = targets * each + self.rng.sample(targets, extra)
        self.rng.shuffle(names)
        return names

    def _killer(self) -> None:
        try:
            for name in self._schedule():
                time.sleep(self.rng.uniform(0.1, self.kill_gap))  # a random moment inside whatever calls are in flight
                self._kill_one(name)
        finally:
            self.kills_done.set()

    def _kill_one(self, name: str) -> None:
        kill, restart = self.stores.get(name) or (lambda: self.stack.kill(name), lambda: self.stack.restart(name))
        kill()
        with self.lock:
            self.report.kills[name] = self.report.kills.get(name, 0) + 1
        time.sleep(self.rng.uniform(0, 0.5))
        restart()

    def run(self) -> Report:
        started = time.monotonic()
        with self.client() as client:
            client.create_collection(COLLECTION, "logmel")
        killer = threading.Thread(target=self._killer, name="killer")
        killer.start()
        threads = [threading.Thread(target=self._worker, name=f"worker{i}") for i in range(self.workers)]
        failures: list[BaseException] = []
        for thread in threads:
            thread.run = _capturing(thread.run, failures)
            thread.start()
        for thread in threads:
            thread.join()
        killer.join()
        if failures:
            self.report.violations.append(f"an operation failed for good: {failures[0]!r}")
        self._reconcile_and_check()
        self.report.seconds = round(time.monotonic() - started, 1)
        return self.report

    def _reconcile_and_check(self) -> None:
        with self.client() as client:
            results = self._retry("reconcile", lambda: client.reconcile(COLLECTION, min_age_seconds=0.001))
            for item in results:
                self.report.reconcile = {
                    "pending_rolled_back": item.pending_rolled_back,
                    "deleting_finished": item.deleting_finished,
                    "failed_removed": item.failed_removed,
                    "orphan_vectors_removed": item.orphan_vectors_removed,
                    "ready_without_vectors": len(item.ready_without_vectors),
                }
            clips = list(client.list_clips(COLLECTION))
            records = [clip.id for clip in clips]
            vectors = self._vector_ids()
            violations = self.report.violations
            if len(records) != len(set(records)):
                violations.append("a clip id is listed twice")
            hashes = [clip.content_sha256 for clip in clips]
            if len(hashes) != len(set(hashes)):
                violations.append("the same content is stored as two clips")
            if set(records) != set(vectors) or len(vectors) != len(set(vectors)):
                violations.append(
                    f"records and vectors differ: {sorted(set(records) - set(vectors))[:10]} have no vectors, "
                    f"{sorted(set(vectors) - set(records))[:10]} have no record"
                )
            not_ready = [(clip.id, clip.state) for clip in clips if clip.state != types_pb2.CLIP_STATE_READY]
            if not_ready:
                violations.append(f"clips not READY after reconcile: {not_ready[:10]}")
            missing = sorted(set(self.acknowledged) - set(records))
            if missing:
                violations.append(f"acknowledged ingests lost: {missing[:10]} ({len(missing)})")
            unexpected = sorted(set(records) - set(self.acknowledged))
            if unexpected:
                violations.append(f"clips nobody acknowledged: {unexpected[:10]} ({len(unexpected)})")
            back = sorted(self.deleted & (set(records) | set(vectors)))
            if back:
                violations.append(f"acknowledged deletes still present: {back[:10]}")
            for clip_id, seed in sorted(self.acknowledged.items()):
                hits = client.search(COLLECTION, audio=clip_audio(seed), top_k=10).hits
                if clip_id not in [hit.clip.id for hit in hits]:
                    violations.append(f"clip {clip_id} is not found by a search with its own audio")
                self.report.clips_checked += 1

    def _vector_ids(self) -> list[int]:
        with grpc.insecure_channel(self.stack.services["search"].address) as channel:
            stub = search_grpc.SearchServiceStub(channel)
            batches = stub.ListClipIds(search_pb2.ListClipIdsRequest(collection=COLLECTION), timeout=60)
            return [clip_id for batch in batches for clip_id in batch.clip_ids]


def _capturing(run, failures):
    def wrapped():
        try:
            run()
        except BaseException as error:  # noqa: BLE001 - reported as a violation by the harness
            failures.append(error)

    return wrapped


def run_crash_test(
    data_dir: pathlib.Path,
    operations: int,
    kills: int,
    workers: int = 4,
    seed: int = 1,
    deadline_seconds: float = 900,
    kill_gap: float = 1.5,
    stores: str = "embedded",
) -> Report:
    """stores: "embedded" (SQLite and Milvus Lite files, inside the services) or "servers" (a throwaway MariaDB
    and a local Milvus server, killed and restarted like the services)."""
    env = {
        "AUDIOSEARCH_GATEWAY_CALL_TIMEOUT_SECONDS": "5",
        "AUDIOSEARCH_GATEWAY_EMBED_TIMEOUT_SECONDS": "10",
        "AUDIOSEARCH_GATEWAY_GRACE_SECONDS": "1",
    }
    ports = {name: 0 for name in SERVICES}
    if stores == "embedded":
        with Stack(data_dir, ports=ports, extra_env=env) as stack:
            return Harness(stack, operations, kills, workers, seed, deadline_seconds, kill_gap).run()
    if stores != "servers":
        raise ValueError(f"stores must be 'embedded' or 'servers', got {stores!r}")
    from throwaway_mariadb import ThrowawayMariaDB

    with ThrowawayMariaDB(pathlib.Path(data_dir) / "mariadb") as mariadb:
        env["AUDIOSEARCH_METADATA_DATABASE_URL"] = mariadb.url("crash")
        with Stack(data_dir, ports=ports, extra_env=env, milvus="server") as stack:
            targets = {
                "mariadb": (mariadb.kill, mariadb.start),
                "milvus": (stack.milvus_server.kill, stack.milvus_server.start),
            }
            return Harness(stack, operations, kills, workers, seed, deadline_seconds, kill_gap, targets).run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--operations", type=int, default=500)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", default="")
    parser.add_argument("--stores", choices=("embedded", "servers"), default="embedded")
    args = parser.parse_args()
    data_dir = pathlib.Path(args.data_dir or tempfile.mkdtemp(prefix="audiosearch-crash-"))
    report = run_crash_test(data_dir, args.operations, args.kills, args.workers, args.seed, stores=args.stores)
    print(json.dumps(dataclasses.asdict(report), indent=2))
    sys.exit(1 if report.violations else 0)


if __name__ == "__main__":
    main()
