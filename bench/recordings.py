"""Recordings at size: ingest real-time factor, then 5-s snippet search latency and the index's memory, through the
public API on the stack.

    .venv/bin/python -m bench.recordings                  # 1 hour of recordings, 100 snippet queries, Milvus Lite
    nice -n 10 .venv/bin/python -m bench.recordings --hours 100 --milvus server --data-dir /work/bench-data/rec100
    .venv/bin/python -m bench.recordings --hours 100 --milvus server --data-dir /work/bench-data/rec100   # again

The library is generated: one-minute recordings of one-second synthetic pieces (audiosearch.tools.synth.recording),
each seed distinct content, written as WAV files in parts of PART_RECORDINGS and imported by one import job per
part (the product's path for a folder: concurrent embeds, batched writes), the next part generated while the last
one is imported. With --data-dir the audio, the Milvus server's data and the metadata DB stay there: a later run
with the same folder and --hours finds its files and jobs (same request ids) and only waits for what is left, so it
resumes a cut ingest or goes straight to the queries.

Queries are 5-s snippets cut at random offsets from stored recordings, with white noise at 20 dB; each must come back
MATCH at rank 1, at its offset. Before they run, the index is flushed, built, compacted and loaded (nothing rebuilds
under the measurement). The index's memory (--milvus server) is read three ways (index_memory): the query node's
own gauge from the server's metrics endpoint, the server's RSS with the collection released and loaded again, and
the size of an HNSW graph of these vectors by hnswlib's layout.
Prints the load average beside the times: on a shared machine they are upper bounds. Not part of the test suite.
"""

import argparse
import json
import math
import multiprocessing
import os
import pathlib
import signal
import statistics
import sys
import tempfile
import time
import urllib.request

import numpy as np

from audiosearch.client import AudioSearchClient
from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.sdk import errors
from audiosearch.tools import synth
from audiosearch.tools.evaluation import perturb
from audiosearch.tools.launcher import Stack
from audiosearch.tools.milvus_server import LocalMilvusServer
from audiosearch.type.v1 import import_job_pb2
from bench.search import rss_mib, wait_for_index

RATE = 16000
RECORDING_SECONDS = 60
# Recordings per import job: a part is generated while the one before it is imported.
PART_RECORDINGS = 250
COLLECTION = "library"
WARM_UP_QUERIES = 5


def recording_path(audio_dir: pathlib.Path, seed: int) -> pathlib.Path:
    return audio_dir / f"part-{seed // PART_RECORDINGS:03d}" / f"{seed:06d}.wav"


def _write_recording(job: tuple[pathlib.Path, int]) -> None:
    audio_dir, seed = job
    path = recording_path(audio_dir, seed)
    if not path.exists():
        partial = path.with_suffix(".partial")  # not audio: an import job lists only what is whole
        partial.write_bytes(synth.encode(synth.recording(seed, RECORDING_SECONDS), RATE))
        partial.rename(path)


def ingest(client: AudioSearchClient, audio_dir: pathlib.Path, count: int) -> int:
    """Generate what is missing and import it, part by part; returns the recordings this run added."""
    jobs = {}  # job id: files it had added before this run
    # Spawned, not forked: the parent holds gRPC channels, which a forked child must not inherit.
    with multiprocessing.get_context("spawn").Pool(os.cpu_count()) as pool:
        for part in range(math.ceil(count / PART_RECORDINGS)):
            seeds = range(part * PART_RECORDINGS, min(count, (part + 1) * PART_RECORDINGS))
            folder = recording_path(audio_dir, seeds[0]).parent
            folder.mkdir(parents=True, exist_ok=True)
            pool.map(_write_recording, [(audio_dir, seed) for seed in seeds], chunksize=8)
            job = client.create_import_job(COLLECTION, str(folder), request_id=f"bench-recordings-part-{part}")
            jobs[job.id] = job.files_added
    added = 0
    for job_id, before in jobs.items():
        *_, job = client.watch_import_job(job_id)  # the job at each change, until it ends
        if job.state != import_job_pb2.IMPORT_JOB_STATE_SUCCEEDED or job.files_failed:
            raise SystemExit(f"import job {job_id} ended {job}; see its failures: audiosearch jobs failures {job_id}")
        added += job.files_added - before
        print(f"  part {job.path}: {job.files_added - before} added by this run of {job.files_added}", file=sys.stderr)
    return added


def index_memory(server: LocalMilvusServer, vectors: int) -> dict:
    """What holding the collection costs the Milvus server, three ways: its query node's own figure (the
    `milvus_querynode_entity_size` gauge of its metrics endpoint, summed over the collection's segments), its RSS
    after releasing the collection and after loading it again (the whole process, as the machine sees it), and what
    an HNSW graph of these vectors takes by hnswlib's layout; with the index's parameters. The bench alone asks Milvus
    directly (per-segment `mem_size` is 0 in Milvus 2.3, and the SearchService has no RPC for these)."""
    from pymilvus import MilvusClient

    client = MilvusClient(uri=server.uri)
    name = "audiosearch_" + COLLECTION
    try:
        index = client.describe_index(name, "vector")
        described = client.describe_collection(name)
        dim = int(next(f for f in described["fields"] if f["name"] == "vector")["params"]["dim"])
        query_node = _entity_bytes(server.health_port, described["collection_id"])
        loaded = rss_mib(server.process.pid)
        client.release_collection(name, timeout=600)
        released = _settled_rss(server.process.pid)
        began = time.perf_counter()
        client.load_collection(name, timeout=1800)
        load_seconds = time.perf_counter() - began
        reloaded = _settled_rss(server.process.pid)
    finally:
        client.close()
    links = 2 * int(index["M"])  # level 0 holds 2M neighbours; the upper levels add ~1/M of that
    return {
        "dim": dim,
        "index": {key: index.get(key) for key in ("index_type", "metric_type", "M", "efConstruction")},
        "query_node_mib": round(query_node / 2**20, 1),
        "milvus_rss_mib": {"loaded": round(loaded, 1), "released": round(released, 1), "reloaded": round(reloaded, 1)},
        "rss_reloaded_minus_released_mib": round(reloaded - released, 1),
        "hnsw_layout_mib": round(vectors * (4 * dim + 4 * links + 12) / 2**20, 1),
        "load_seconds": round(load_seconds, 1),
    }


def _entity_bytes(metrics_port: int, collection_id: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=30) as response:
        lines = response.read().decode().splitlines()
    wanted = f'collection_id="{collection_id}"'
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in lines
        if line.startswith("milvus_querynode_entity_size{") and wanted in line
    )


def _settled_rss(pid: int) -> float:
    """The process's RSS once it stops moving (the allocator hands freed pages back over seconds)."""
    before = rss_mib(pid)
    for _ in range(30):
        time.sleep(2)
        now = rss_mib(pid)
        if abs(now - before) < max(1.0, 0.005 * before):
            return now
        before = now
    return before


def _stats(client: AudioSearchClient, patience: float = 900.0) -> list:
    """GetStats, waiting while a restarted Milvus server loads the collection (1.37M windows take minutes; until then
    counting its rows runs past the RPC's deadline)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return client.stats()
        except (errors.DeadlineExceeded, errors.Unavailable):
            if time.monotonic() > deadline:
                raise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--snippet-seconds", type=float, default=5.0)
    parser.add_argument("--milvus", choices=("lite", "server"), default="lite")
    parser.add_argument(
        "--data-dir", help="keep the audio and the stack's data here; a later run with it resumes or only queries"
    )
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C, so the stack's services are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    count = max(1, round(args.hours * 3600 / RECORDING_SECONDS))
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="bench-recordings-") as scratch:
        root = pathlib.Path(args.data_dir or scratch).resolve()
        audio_dir = root / "audio"
        audio_dir.mkdir(parents=True, exist_ok=True)
        stack = Stack(root / "stack", ports={}, milvus=args.milvus, import_roots=(str(audio_dir),), start_timeout=600)
        with stack, AudioSearchClient(stack.gateway_address) as client:
            if COLLECTION not in {collection.name for collection in client.list_collections()}:
                client.create_collection(COLLECTION, purpose="recordings")
            started = time.perf_counter()
            added = ingest(client, audio_dir, count)
            ingest_seconds = time.perf_counter() - started
            load_after_ingest = os.getloadavg()[0]
            stats = next(s for s in _stats(client) if s.name == COLLECTION)
            memory: dict = {}
            if stack.milvus_server is not None:
                wait_for_index(stack.milvus_server.uri, COLLECTION, stats.vectors, quiet_seconds=30)
                memory = index_memory(stack.milvus_server, stats.vectors)
            times, correct, matched, offset_errors = [], 0, 0, []
            length = int(args.snippet_seconds * RATE)
            for query in range(WARM_UP_QUERIES + args.queries):
                seed = int(rng.integers(count))
                first = int(rng.integers(0, RECORDING_SECONDS * RATE - length))
                snippet = synth.recording(seed, RECORDING_SECONDS)[first : first + length]
                audio = synth.encode(perturb.add_noise(snippet, 20, rng), RATE)
                began = time.perf_counter()
                hits = client.search(COLLECTION, audio=audio, top_k=5).hits
                elapsed = (time.perf_counter() - began) * 1000
                if query < WARM_UP_QUERIES:
                    continue
                times.append(elapsed)
                if hits and pathlib.Path(hits[0].clip.source).name == recording_path(audio_dir, seed).name:
                    correct += 1
                    offset_errors.append(abs(hits[0].alignment.offset_seconds - first / RATE))
                matched += bool(hits) and hits[0].decision == pb2.DECISION_MATCH
            load_after_search = os.getloadavg()[0]
    report = {
        "hours": round(count * RECORDING_SECONDS / 3600, 3),
        "recordings": stats.ready_clips,
        "vectors": stats.vectors,
        "milvus": args.milvus,
        **memory,
        "ingest": {
            "recordings_added": added,
            "seconds": round(ingest_seconds, 1),
            # Over what this run added (a resumed run: the rest; none: the rerun only queries).
            "real_time_factor": round(ingest_seconds / (added * RECORDING_SECONDS), 4) if added else None,
        },
        "search_ms": {"p50": round(statistics.median(times), 1), "p95": round(float(np.percentile(times, 95)), 1)},
        "queries": args.queries,
        "hit@1": correct / args.queries,
        "match_rate": matched / args.queries,
        "offset_error_s": {
            "p50": round(statistics.median(offset_errors), 4) if offset_errors else None,
            "p95": round(float(np.percentile(offset_errors, 95)), 4) if offset_errors else None,
        },
        "load_average": {"after_ingest": round(load_after_ingest, 2), "after_search": round(load_after_search, 2)},
        "cpus": os.cpu_count(),
    }
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
