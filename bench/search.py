"""Search latency vs recall at the seed's scale, through the SearchService over gRPC, beside faiss in the same run.

    .venv/bin/python -m bench.search                 # 650k x 192-d, 10k queries (about 15-25 min on 2 cores)
    .venv/bin/python -m bench.search --scale 0.05    # a quick run (32k vectors, 500 queries)

Data: synthetic speaker-like embeddings, unit-norm: 10k speaker centres, each vector its speaker's centre plus noise,
queries are fresh samples of random speakers (not in the library). Exact top-10 by one-thread faiss flat (brute force)
is the ground truth. Measured: the SearchService (a separate process, as deployed) on a local Milvus server (HNSW,
M=16, efConstruction=200) at several search breadths (ef); raw faiss HNSW with the same parameters, one thread;
brute force, one thread; and Milvus Lite at a size it can handle. Writes a recall-vs-latency PNG and a JSON.
Not part of the test suite. Needs `pip install milvus==2.3.5 faiss-cpu matplotlib`.
"""

import argparse
import json
import os
import pathlib
import queue
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import grpc
import numpy as np

from audiosearch.search.v1 import search_service_pb2 as pb2
from audiosearch.search.v1 import search_service_pb2_grpc as pb2_grpc
from audiosearch.tools.milvus_server import LocalMilvusServer
from audiosearch.type.v1 import types_pb2

TOP_K = 10
UPSERT_BATCH = 2000


def speaker_embeddings(count: int, queries: int, dimension: int, speakers: int, seed: int = 0):
    """Unit vectors clustered by speaker (within-speaker cosine ~0.6-0.7, like ECAPA voiceprints)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((speakers, dimension)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)

    def sample(n: int) -> np.ndarray:
        owners = rng.integers(0, speakers, n)
        noise = rng.standard_normal((n, dimension)).astype(np.float32) * (0.8 / np.sqrt(dimension))
        vectors = centres[owners] + noise
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    return sample(count), sample(queries)


def recall_at_k(found: list[list[int]], truth: np.ndarray) -> float:
    return float(
        np.mean(
            [
                len(set(row[:TOP_K]) & set(exact[:TOP_K].tolist())) / TOP_K
                for row, exact in zip(found, truth, strict=True)
            ]
        )
    )


def latency_stats(seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    return {
        "p50_ms": 1e3 * statistics.median(ordered),
        "p99_ms": 1e3 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        "qps": len(ordered) / sum(ordered),
    }


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


# --- faiss -------------------------------------------------------------------------------------------------------


def brute_force(data: np.ndarray, queries: np.ndarray, timed: int):
    import faiss

    faiss.omp_set_num_threads(1)
    index = faiss.IndexFlatIP(data.shape[1])
    index.add(data)
    start = time.perf_counter()
    _, truth = index.search(queries, TOP_K)  # batched: the ground truth
    batched = time.perf_counter() - start
    seconds = []
    for query in queries[:timed]:  # one query at a time: the latency a caller sees
        start = time.perf_counter()
        index.search(query[None, :], TOP_K)
        seconds.append(time.perf_counter() - start)
    return truth, {**latency_stats(seconds), "batched_qps": len(queries) / batched, "timed_queries": timed}


def faiss_hnsw(data: np.ndarray, queries: np.ndarray, truth: np.ndarray, efs: list[int], build_threads: int):
    import faiss

    faiss.omp_set_num_threads(build_threads)
    index = faiss.IndexHNSWFlat(data.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 200
    start = time.perf_counter()
    index.add(data)
    build = time.perf_counter() - start
    faiss.omp_set_num_threads(1)
    size_mib = faiss.serialize_index(index).nbytes / 2**20
    rows = []
    for ef in efs:
        index.hnsw.efSearch = ef
        seconds, found = [], []
        for query in queries:
            start = time.perf_counter()
            _, ids = index.search(query[None, :], TOP_K)
            seconds.append(time.perf_counter() - start)
            found.append(ids[0].tolist())
        rows.append({"ef": ef, "recall": recall_at_k(found, truth), **latency_stats(seconds)})
        print(
            f"  faiss HNSW ef={ef:<4} recall@10 {rows[-1]['recall']:.4f}  p50 {rows[-1]['p50_ms']:.3f} ms", flush=True
        )
    return {"build_s": build, "build_threads": build_threads, "index_mib": size_mib, "points": rows}


# --- the SearchService over gRPC -----------------------------------------------------------------------------------


class SearchServiceProcess:
    """`python -m search_service.server` on port 0, as the launcher runs it."""

    def __init__(self, milvus_uri: str, log_path: pathlib.Path) -> None:
        env = {
            **os.environ,
            "AUDIOSEARCH_SEARCH_LISTEN": "127.0.0.1:0",
            "AUDIOSEARCH_SEARCH_MILVUS_URI": milvus_uri,
            "AUDIOSEARCH_SEARCH_MILVUS_TIMEOUT_SECONDS": "600",
            "AUDIOSEARCH_SEARCH_LOG_LEVEL": "WARNING",
        }
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "search_service.server"], stdout=subprocess.PIPE, stderr=self.log, env=env, text=True
        )
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in self.process.stdout], daemon=True).start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                if self.process.poll() is not None:
                    raise RuntimeError(f"search service exited; see {log_path}") from None
                continue
            if match := re.search(r"listening on port (\d+)", line):
                self.address = f"127.0.0.1:{match.group(1)}"
                break
        else:
            raise RuntimeError(f"search service did not start; see {log_path}")
        limit = 256 * 2**20
        self.channel = grpc.insecure_channel(
            self.address, options=[("grpc.max_send_message_length", limit), ("grpc.max_receive_message_length", limit)]
        )
        self.stub = pb2_grpc.SearchServiceStub(self.channel)

    def stop(self) -> None:
        self.channel.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def load_collection(service: SearchServiceProcess, name: str, data: np.ndarray, index_type: str = "HNSW") -> float:
    stub = service.stub
    stub.DropCollection(pb2.DropCollectionRequest(collection=name), timeout=600)
    stub.EnsureCollection(
        pb2.EnsureCollectionRequest(
            collection=name,
            dimension=data.shape[1],
            metric=types_pb2.METRIC_COSINE,
            index_type=types_pb2.IndexType.Value(f"INDEX_TYPE_{index_type}"),
        ),
        timeout=600,
    )
    start = time.perf_counter()
    for first in range(0, len(data), UPSERT_BATCH):
        clips = [
            pb2.ClipVectors(
                clip_id=clip_id + 1,
                duration_seconds=1.0,
                segments=[pb2.Segment(vector=pb2.Vector(values=data[clip_id]), start_seconds=0.0, end_seconds=1.0)],
            )
            for clip_id in range(first, min(len(data), first + UPSERT_BATCH))
        ]
        stub.Upsert(pb2.UpsertRequest(collection=name, clips=clips), timeout=600)
    return time.perf_counter() - start


def wait_for_index(milvus_uri: str, name: str, rows: int, quiet_seconds: float = 90.0) -> tuple[float, int]:
    """Flush, then wait for the steady state searches are measured in: every row in a built and loaded index, and
    nothing changing for `quiet_seconds`. Milvus compacts segments once they are indexed (applying the deletes that
    upserts leave, merging small ones) and then indexes the result, so without this a rebuild would run under the
    measurement. Returns the seconds that took and the number of segments searched.

    The bench alone asks Milvus directly (pymilvus), for flush, compaction and index progress, which the
    SearchService has no RPC for."""
    from pymilvus import MilvusClient

    collection = "audiosearch_" + name
    client = MilvusClient(uri=milvus_uri)
    start = time.perf_counter()
    client.flush(collection, timeout=600)
    compacted = False
    steady, since = None, time.monotonic()
    while True:
        info = client.describe_index(collection, "vector")
        stored = {segment.segment_id for segment in client.list_persistent_segments(collection)}
        loaded = {segment.segment_id for segment in client.list_loaded_segments(collection)}
        done = int(info.get("indexed_rows", 0)) >= rows and int(info.get("pending_index_rows", 0)) == 0
        state = loaded if done and stored == loaded else None
        if state != steady:
            steady, since = state, time.monotonic()
        elif state is not None and time.monotonic() - since >= quiet_seconds:
            if compacted:
                break
            client.compact(collection, timeout=600)  # merges what it can now, rather than during the measurement
            compacted, since = True, time.monotonic()
        time.sleep(2)
    elapsed = time.perf_counter() - start
    client.close()
    return elapsed, len(steady)


def service_search(service: SearchServiceProcess, name: str, queries: np.ndarray, truth: np.ndarray, breadth: int):
    seconds, found = [], []
    for query in queries:
        request = pb2.SearchRequest(
            collection=name, queries=[pb2.Vector(values=query)], top_k=TOP_K, search_breadth=breadth
        )
        start = time.perf_counter()
        response = service.stub.Search(request, timeout=60)
        seconds.append(time.perf_counter() - start)
        found.append([hit.clip_id - 1 for hit in response.results[0].hits])
    return {"ef": breadth, "recall": recall_at_k(found, truth[: len(queries)]), **latency_stats(seconds)}


def milvus_lite(data: np.ndarray, queries: np.ndarray, work: pathlib.Path, count: int, query_count: int):
    """Milvus Lite at a size it can handle, through the same service, against its own exact top-10."""
    import faiss

    subset, subset_queries = data[:count], queries[:query_count]
    faiss.omp_set_num_threads(1)
    flat = faiss.IndexFlatIP(data.shape[1])
    flat.add(subset)
    _, truth = flat.search(subset_queries, TOP_K)
    service = SearchServiceProcess(str(work / "lite.db"), work / "search-lite.log")
    try:
        load_s = load_collection(service, "bench_lite", subset)
        point = service_search(service, "bench_lite", subset_queries, truth, 0)
    finally:
        service.stop()
    return {"vectors": count, "queries": query_count, "load_s": load_s, **point}


def at_recall(points: list[dict], recall: float) -> dict | None:
    """The fastest point reaching `recall` (None when none does)."""
    reaching = [point for point in points if point["recall"] >= recall]
    return min(reaching, key=lambda point: point["p50_ms"]) if reaching else None


def plot(results: dict, path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for label, points, style in (
        ("SearchService -> Milvus server (HNSW)", results["service"]["points"], "o-"),
        ("faiss HNSW, 1 thread", results["faiss_hnsw"]["points"], "s--"),
    ):
        axes.plot([p["p50_ms"] for p in points], [p["recall"] for p in points], style, label=label)
        for p in points:
            axes.annotate(
                f"ef {p['ef']}", (p["p50_ms"], p["recall"]), fontsize=7, xytext=(3, -9), textcoords="offset points"
            )
    brute = results["brute_force"]
    axes.plot([brute["p50_ms"]], [1.0], "k*", markersize=10, label="brute force (faiss flat), 1 thread")
    if results.get("lite"):
        lite = results["lite"]
        axes.plot([lite["p50_ms"]], [lite["recall"]], "r^", label=f"Milvus Lite at {lite['vectors']:,} vectors")
    axes.set_xscale("log")
    axes.set_xlabel("p50 latency per query (ms, log)")
    axes.set_ylabel("recall@10")
    axes.set_title(f"{results['vectors']:,} x {results['dimension']}-d, {results['queries']:,} queries")
    axes.axhline(0.97, color="grey", linewidth=0.5)
    axes.grid(True, which="both", linewidth=0.3)
    axes.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench.search", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--vectors", type=int, default=650_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--dimension", type=int, default=192)
    parser.add_argument("--speakers", type=int, default=10_000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply vectors, queries and speakers (quick run)")
    parser.add_argument(
        "--efs",
        default="10,16,24,32,48,64,96,128",
        help="search breadths (HNSW ef) to measure; Milvus raises ef below top_k to top_k",
    )
    parser.add_argument("--brute-queries", type=int, default=1000, help="queries timed one by one on brute force")
    parser.add_argument("--lite-vectors", type=int, default=20_000)
    parser.add_argument("--lite-queries", type=int, default=300)
    parser.add_argument("--out", default="bench/results", help="folder for search.png and search.json")
    parser.add_argument("--work-dir", help="Milvus data and logs (default: a temporary folder)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="search the collection a previous run left in --work-dir (same data) instead of upserting it again",
    )
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the Milvus server and the search service this run started are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    count = int(args.vectors * args.scale)
    query_count = max(100, int(args.queries * args.scale))
    speakers = max(10, int(args.speakers * args.scale))
    efs = [int(ef) for ef in args.efs.split(",")]
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(args.work_dir or tempfile.mkdtemp(prefix="bench-search-"))
    work.mkdir(parents=True, exist_ok=True)
    threads = os.cpu_count() or 1
    results: dict = {"vectors": count, "dimension": args.dimension, "queries": query_count, "cpus": threads}

    print(
        f"data: {count:,} x {args.dimension}-d in {speakers:,} speakers, {query_count:,} queries; {threads} CPUs",
        flush=True,
    )
    data, queries = speaker_embeddings(count, query_count, args.dimension, speakers)

    # Milvus first: its index build and compactions must be over before anything is timed, faiss included.
    print("SearchService over gRPC -> local Milvus server (HNSW, M=16, efConstruction=200)", flush=True)
    with LocalMilvusServer(work / "milvus", port=0, start_timeout=180) as server:
        service = SearchServiceProcess(server.uri, work / "search-server.log")
        try:
            idle_rss = rss_mib(server.process.pid)
            stored = service.stub.Count(pb2.CountRequest(collection="bench"), timeout=600).vectors if args.reuse else 0
            if stored == count:
                load_s = None
                print(f"  reusing the {count:,} vectors a previous run stored", flush=True)
            else:
                load_s = load_collection(service, "bench", data)
                print(f"  upserted {count:,} vectors over gRPC in {load_s:.1f} s; waiting for the index", flush=True)
            index_s, segments = wait_for_index(server.uri, "bench", count)
            print(f"  indexed and compacted in {index_s:.0f} s; {segments} segment(s)", flush=True)

            print("brute force (faiss flat, 1 thread): ground truth", flush=True)
            truth, results["brute_force"] = brute_force(data, queries, min(args.brute_queries, query_count))
            print(f"  p50 {results['brute_force']['p50_ms']:.2f} ms per query", flush=True)

            print(f"faiss HNSW (M=16, efConstruction=200; build on {threads} threads, search on 1)", flush=True)
            results["faiss_hnsw"] = faiss_hnsw(data, queries, truth, efs, threads)
            hnsw = results["faiss_hnsw"]
            print(f"  build {hnsw['build_s']:.1f} s, index {hnsw['index_mib']:.0f} MiB", flush=True)

            print("SearchService over gRPC -> local Milvus server: searches", flush=True)
            service_search(service, "bench", queries[:200], truth, efs[0])  # warm up
            points = []
            for ef in efs:
                points.append(service_search(service, "bench", queries, truth, ef))
                print(
                    f"  service ef={ef:<4} recall@10 {points[-1]['recall']:.4f}  p50 {points[-1]['p50_ms']:.3f} ms  "
                    f"p99 {points[-1]['p99_ms']:.3f} ms  {points[-1]['qps']:.0f} QPS",
                    flush=True,
                )
            results["service"] = {
                "upsert_s": load_s,
                "index_and_compaction_s": index_s,
                "segments": segments,
                "milvus_rss_mib": rss_mib(server.process.pid),
                "milvus_idle_rss_mib": idle_rss,
                "points": points,
            }
        finally:
            service.stop()

    if args.lite_vectors:
        print(f"SearchService over gRPC -> Milvus Lite at {args.lite_vectors:,} vectors", flush=True)
        results["lite"] = milvus_lite(data, queries, work, min(args.lite_vectors, count), args.lite_queries)
        print(f"  recall@10 {results['lite']['recall']:.4f}  p50 {results['lite']['p50_ms']:.2f} ms", flush=True)

    print("\nsummary")
    brute = results["brute_force"]
    service_points, faiss_points = results["service"]["points"], results["faiss_hnsw"]["points"]
    target = at_recall(service_points, 0.97)
    results["summary"] = {}
    if target is None:
        print("  the service reached recall@10 0.97 at no measured ef; widen --efs")
    else:
        raw = at_recall(faiss_points, target["recall"])
        summary = {
            "service_ef": target["ef"],
            "service_recall": target["recall"],
            "service_p50_ms": target["p50_ms"],
            "service_p99_ms": target["p99_ms"],
            "service_qps": target["qps"],
            "speedup_vs_brute_force_p50": brute["p50_ms"] / target["p50_ms"],
            "faiss_hnsw_ef_at_same_recall": raw and raw["ef"],
            "faiss_hnsw_p50_ms_at_same_recall": raw and raw["p50_ms"],
            "service_over_faiss_hnsw_p50": raw and target["p50_ms"] / raw["p50_ms"],
        }
        results["summary"] = summary
        print(
            f"  SearchService: recall@10 {target['recall']:.4f} at ef={target['ef']}: p50 {target['p50_ms']:.2f} ms, "
            f"p99 {target['p99_ms']:.2f} ms, {target['qps']:.0f} QPS (one client, sequential)"
        )
        print(
            f"  brute force, 1 thread: p50 {brute['p50_ms']:.2f} ms -> the service is "
            f"{summary['speedup_vs_brute_force_p50']:.1f}x faster"
        )
        if raw:
            print(
                f"  raw faiss HNSW at recall >= {target['recall']:.4f} (ef={raw['ef']}): p50 {raw['p50_ms']:.3f} ms -> "
                f"the service costs {summary['service_over_faiss_hnsw_p50']:.1f}x (gRPC + Milvus proxy + Python)"
            )
        print(f"  done-when: recall@10 >= 0.97 at p50 <= 2.5 ms: {'MET' if target['p50_ms'] <= 2.5 else 'NOT MET'}")
    hnsw = results["faiss_hnsw"]
    service = results["service"]
    upsert = "reused" if service["upsert_s"] is None else f"after a {service['upsert_s']:.0f} s upsert"
    print(
        f"  index build: Milvus {service['index_and_compaction_s']:.0f} s to a steady index ({upsert}; "
        f"RSS {service['milvus_rss_mib']:.0f} MiB, idle {service['milvus_idle_rss_mib']:.0f} MiB); "
        f"faiss HNSW {hnsw['build_s']:.0f} s ({hnsw['index_mib']:.0f} MiB)"
    )
    if results.get("lite"):
        lite = results["lite"]
        print(f"  Milvus Lite at {lite['vectors']:,}: p50 {lite['p50_ms']:.1f} ms, recall@10 {lite['recall']:.3f}")
    (out / "search.json").write_text(json.dumps(results, indent=2))
    plot(results, out / "search.png")
    print(f"wrote {out / 'search.png'} and {out / 'search.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
