"""Ingest cost as a collection grows: the four services as processes on the embedded default (Milvus Lite + SQLite).

    .venv/bin/python bench/ingest_growth.py                    # 2,000 one-second clips, logmel
    .venv/bin/python bench/ingest_growth.py --clips 500 --window 50 --json

One client ingests distinct synthetic clips one after another. At each checkpoint (the first clips, every 1,000, the
last) it prints the median ingest latency of the last --window ingests and, from each service's Prometheus /metrics,
the mean time of each RPC of an ingest over the same clips: metadata FindByContentHash, embedding StreamEmbedAudio,
metadata CreateClip, search Upsert, metadata UpdateClipState. A flat column means ingest cost does not grow with the
collection. Binds 127.0.0.1 only.

    .venv/bin/python bench/ingest_growth.py --prefill 1000,100000     # per-file cost at 1k and at 100k vectors

--prefill runs the stack `audiosearch up` starts by default (--milvus auto: the local Milvus server when its package
is installed) with one collection per count, filled to that many vectors (random unit vectors upserted straight
through the SearchService, their READY records written through the metadata store) and indexed by Milvus; then it
ingests --window fresh files through the gateway into each collection, the collections taken in turn so that load
from elsewhere falls on all alike, and prints each one's median per-file ingest time and the ratio of the largest
count's to the smallest's (issue #14: at most 1.2).
"""

import argparse
import hashlib
import json
import os
import pathlib
import re
import signal
import socket
import statistics
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402
import numpy as np  # noqa: E402

from audiosearch.client import AudioSearchClient  # noqa: E402
from audiosearch.runtime import domain  # noqa: E402
from audiosearch.search.v1 import search_service_pb2 as search_pb2  # noqa: E402
from audiosearch.search.v1 import search_service_pb2_grpc as search_grpc  # noqa: E402
from audiosearch.tools import synth  # noqa: E402
from audiosearch.tools.launcher import MILVUS_CHOICES, SERVICES, Stack  # noqa: E402
from metadata_service.store import open_store  # noqa: E402

UPSERT_BATCH = 2000

# (service, gRPC method) of the RPCs one ingest makes behind the gateway.
INGEST_RPCS = (
    ("metadata", "FindByContentHash"),
    ("embedding", "StreamEmbedAudio"),
    ("metadata", "CreateClip"),
    ("search", "Upsert"),
    ("metadata", "UpdateClipState"),
)
_SAMPLE = re.compile(r"^grpc_server_handling_seconds_(sum|count)\{([^}]*)\} (\S+)$")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rpc_totals(metrics_ports: dict[str, int]) -> dict[tuple[str, str], list[float]]:
    """(service, method) -> [seconds, calls] so far, every status code together."""
    totals: dict[tuple[str, str], list[float]] = {}
    for service, port in metrics_ports.items():
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            text = response.read().decode()
        for line in text.splitlines():
            match = _SAMPLE.match(line)
            if not match:
                continue
            method = re.search(r'grpc_method="([^"]*)"', match.group(2)).group(1)
            entry = totals.setdefault((service, method), [0.0, 0.0])
            entry[0 if match.group(1) == "sum" else 1] += float(match.group(3))
    return totals


def mean_ms(before: dict, after: dict, key: tuple[str, str]) -> float | None:
    seconds = after.get(key, [0.0, 0.0])[0] - before.get(key, [0.0, 0.0])[0]
    calls = after.get(key, [0.0, 0.0])[1] - before.get(key, [0.0, 0.0])[1]
    return round(seconds / calls * 1000, 2) if calls else None


def clip(seed: int) -> bytes:
    sound_class = synth.CLASSES[seed % len(synth.CLASSES)]
    return synth.encode(synth.generate(sound_class, seed, 1.0, 16000), 16000, ".wav")


def run(address: str, metrics_ports: dict[str, int], clips: int, window: int, model: str) -> list[dict]:
    checkpoints = sorted({window, *range(1000, clips + 1, 1000), clips})
    rows, latencies = [], []
    with AudioSearchClient(address, timeout_seconds=60) as client:
        client.create_collection("growth", model)
        start_totals = rpc_totals(metrics_ports)
        for seed in range(clips):
            content = clip(seed)
            if len(latencies) + window in checkpoints:  # the window before a checkpoint starts here
                start_totals = rpc_totals(metrics_ports)
            started = time.perf_counter()
            client.ingest(content, "growth", source=f"{seed}.wav")
            latencies.append(time.perf_counter() - started)
            if len(latencies) in checkpoints:
                totals = rpc_totals(metrics_ports)
                row = {
                    "clips": len(latencies),
                    "ingest_p50_ms": round(statistics.median(latencies[-window:]) * 1000, 2),
                    **{
                        f"{service}.{method}_mean_ms": mean_ms(start_totals, totals, (service, method))
                        for service, method in INGEST_RPCS
                    },
                }
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


class Prefill:
    """Grows a collection without the gateway: READY records through the metadata store (the service's SQLite file),
    then their vectors (random, unit) upserted through the SearchService, clip ids matching the records."""

    def __init__(self, stack: Stack) -> None:
        self.records = open_store(f"sqlite:///{stack.data_dir / 'metadata.db'}")
        limit = 64 * 2**20
        self.channel = grpc.insecure_channel(
            stack.services["search"].address,
            options=[("grpc.max_send_message_length", limit), ("grpc.max_receive_message_length", limit)],
        )
        self.search = search_grpc.SearchServiceStub(self.channel)
        self.rng = np.random.default_rng(0)
        self.added = 0

    def add(self, collection: str, dimension: int, count: int) -> None:
        for first in range(0, count, UPSERT_BATCH):
            ids = [self._record(collection) for _ in range(min(UPSERT_BATCH, count - first))]
            vectors = self.rng.standard_normal((len(ids), dimension)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            clips = [
                search_pb2.ClipVectors(
                    clip_id=clip_id,
                    duration_seconds=1.0,
                    segments=[search_pb2.Segment(vector=search_pb2.Vector(values=vector), end_seconds=1.0)],
                )
                for clip_id, vector in zip(ids, vectors, strict=True)
            ]
            self.search.Upsert(search_pb2.UpsertRequest(collection=collection, clips=clips), timeout=600)

    def count(self, collection: str) -> int:
        return self.search.Count(search_pb2.CountRequest(collection=collection), timeout=600).vectors

    def _record(self, collection: str) -> int:
        self.added += 1
        digest = hashlib.sha256(f"prefill-{self.added}".encode()).hexdigest()
        audio = domain.AudioInfo(1.0, 16000, 1, "wav")
        clip = self.records.insert_clip(domain.Clip(0, collection, digest, f"prefill-{self.added}", audio), "")
        self.records.update_clip(clip.id, domain.ClipState.READY, None, 1)
        return clip.id

    def close(self) -> None:
        self.channel.close()
        self.records.close()


def settle(stack: Stack, collection: str, rows: int) -> str:
    """On the Milvus server, wait until every row is indexed and the index has stayed the same for a while, as a
    library that grew earlier is; Milvus Lite indexes as it flushes."""
    if stack.milvus_server is None:
        return "lite"
    from bench.search import wait_for_index

    seconds, segments = wait_for_index(stack.milvus_server.uri, collection, rows, quiet_seconds=15)
    return f"indexed in {seconds:.0f} s, {segments} segment(s)"


def per_file(address: str, metrics_ports: dict[str, int], collections: list[str], files: int) -> list[dict]:
    """Ingest `files` fresh clips into each collection, taking the collections in turn (file 1 into each, then file
    2...), so that load from elsewhere on the machine falls on every collection alike: per collection, the median and
    mean per-file time and each RPC's mean."""
    seconds: dict[str, list[float]] = {name: [] for name in collections}
    totals: dict[str, tuple[dict, dict]] = {name: ({}, {}) for name in collections}
    with AudioSearchClient(address, timeout_seconds=120) as client:
        for name in collections:
            client.ingest(clip(10**7 + collections.index(name)), name, source="warm.wav")
        for index in range(files):
            for name in collections:
                content = clip(10**6 * (1 + collections.index(name)) + index)
                before = rpc_totals(metrics_ports)
                started = time.perf_counter()
                client.ingest(content, name, source=f"{index}.wav")
                seconds[name].append(time.perf_counter() - started)
                after = rpc_totals(metrics_ports)
                for key, value in after.items():  # this file's RPC time, added to the collection's sums
                    old = before.get(key, [0.0, 0.0])
                    total = totals[name][1].setdefault(key, [0.0, 0.0])
                    total[0] += value[0] - old[0]
                    total[1] += value[1] - old[1]
    return [
        {
            "per_file_p50_ms": round(statistics.median(seconds[name]) * 1000, 2),
            "per_file_mean_ms": round(statistics.mean(seconds[name]) * 1000, 2),
            **{f"{s}.{m}_mean_ms": mean_ms(*totals[name], (s, m)) for s, m in INGEST_RPCS},
        }
        for name in collections
    ]


def run_prefill(stack: Stack, metrics_ports: dict[str, int], counts: list[int], files: int, model: str) -> list[dict]:
    """One collection per count, filled to it; then the files, into each collection in turn."""
    collections = [f"growth_{count}" for count in counts]
    prefill = Prefill(stack)
    rows = []
    try:
        with AudioSearchClient(stack.gateway_address, timeout_seconds=60) as client:
            for name, count in zip(collections, counts, strict=True):
                dimension = client.create_collection(name, model).dimension
                started = time.perf_counter()
                prefill.add(name, dimension, count)
                rows.append({"vectors": prefill.count(name), "fill_s": round(time.perf_counter() - started, 1)})
        for name, row in zip(collections, rows, strict=True):
            row["store"] = settle(stack, name, row["vectors"])
            print(json.dumps(row), file=sys.stderr, flush=True)
        load = os.getloadavg()[0]
        for row, measured in zip(rows, per_file(stack.gateway_address, metrics_ports, collections, files), strict=True):
            row.update(measured, load=load)
    finally:
        prefill.close()
    return rows


def print_prefill(rows: list[dict], files: int, model: str, milvus: str) -> None:
    print(f"per-file ingest time over {files} files, by vectors already in the collection ({model}, {milvus})")
    print(f"(files taken in turn across the collections; load average {rows[0]['load']:.1f} at the start)")
    print(f"{'vectors':>8} {'p50 ms':>7} {'mean ms':>7} " + " ".join(f"{m:>17}" for _, m in INGEST_RPCS))
    for row in rows:
        cells = [row[f"{service}.{method}_mean_ms"] for service, method in INGEST_RPCS]
        print(
            f"{row['vectors']:>8} {row['per_file_p50_ms']:>7} {row['per_file_mean_ms']:>7} "
            + " ".join(f"{cell!s:>17}" for cell in cells)
        )
    ratio = rows[-1]["per_file_p50_ms"] / rows[0]["per_file_p50_ms"]
    verdict = "MET" if ratio <= 1.2 else "NOT MET"
    sizes = f"{rows[-1]['vectors']:,} / at {rows[0]['vectors']:,} vectors"
    print(f"per-file p50 at {sizes}: {ratio:.2f}x (<= 1.2: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=2000)
    parser.add_argument("--window", type=int, default=100, help="ingests per figure (the last before a checkpoint)")
    parser.add_argument("--model", default="logmel")
    parser.add_argument("--data-dir", default="", help="default: a fresh temporary folder")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--prefill", default="", help="e.g. 1000,100000: per-file cost at these collection sizes")
    parser.add_argument("--milvus", choices=MILVUS_CHOICES, default="", help="default: auto with --prefill, else lite")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds like Ctrl-C: the stack this run started stops
    if not 1 <= args.window <= args.clips <= 100_000:
        sys.exit("ingest_growth.py: need 1 <= --window <= --clips <= 100000")
    data_dir = pathlib.Path(args.data_dir or tempfile.mkdtemp(prefix="audiosearch-growth-"))
    metrics_ports = {name: free_port() for name in SERVICES if name != "gateway"}
    extra_env = {f"AUDIOSEARCH_{name.upper()}_METRICS_PORT": str(port) for name, port in metrics_ports.items()}
    milvus = args.milvus or ("auto" if args.prefill else "lite")
    with Stack(data_dir, ports={name: 0 for name in SERVICES}, extra_env=extra_env, milvus=milvus) as stack:
        if args.prefill:
            counts = sorted(int(count) for count in args.prefill.split(","))
            rows = run_prefill(stack, metrics_ports, counts, args.window, args.model)
            if not args.json:
                print_prefill(rows, args.window, args.model, stack.milvus)
        else:
            rows = run(stack.gateway_address, metrics_ports, args.clips, args.window, args.model)
    if args.prefill and not args.json:
        return
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"median ingest ms over the last {args.window} clips before each count; mean ms per RPC ({args.model})")
    print(f"{'clips':>6} {'ingest p50':>10} " + " ".join(f"{method:>17}" for _, method in INGEST_RPCS))
    for row in rows:
        cells = [row[f"{service}.{method}_mean_ms"] for service, method in INGEST_RPCS]
        print(f"{row['clips']:>6} {row['ingest_p50_ms']:>10} " + " ".join(f"{cell!s:>17}" for cell in cells))


if __name__ == "__main__":
    main()
