"""The vector store `audiosearch up` starts by default, searched at 100k vectors through the SearchService over gRPC.

    .venv/bin/python -m bench.default_store                        # 100k x 192-d random unit vectors, 1,000 queries
    .venv/bin/python -m bench.default_store --data speakers        # speaker-like (clustered) vectors instead
    .venv/bin/python -m bench.default_store --milvus lite --vectors 20000

Starts the four services as `audiosearch up` does (launcher.Stack, --milvus auto: the local Milvus server when its
package is installed, else Milvus Lite), creates a collection as the gateway does (HNSW, cosine), upserts the vectors
through the SearchService, waits until Milvus has indexed them, then sends one query at a time and prints recall@10
against exact (faiss flat) top-10 and the p50 latency, at the default search breadth (what the gateway sends) and at
the --breadths given. Issue #14's done-when: recall@10 >= 0.99 and p50 <= 10 ms at the default. Not part of the
test suite; needs faiss-cpu (the bench extra).
"""

import argparse
import json
import os
import pathlib
import signal
import sys
import tempfile

import grpc
import numpy as np

from audiosearch.search.v1 import search_service_pb2_grpc as pb2_grpc
from audiosearch.tools.launcher import MILVUS_CHOICES, SERVICES, Stack
from bench.search import TOP_K, load_collection, service_search, speaker_embeddings, wait_for_index

COLLECTION = "bench_default"


def random_unit(count: int, queries: int, dimension: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((count + queries, dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors[:count], vectors[count:]


def exact_top_k(data: np.ndarray, queries: np.ndarray) -> np.ndarray:
    import faiss

    index = faiss.IndexFlatIP(data.shape[1])
    index.add(data)
    return index.search(queries, TOP_K)[1]


class _SearchService:
    """The stack's SearchService stub, as bench.search's helpers take it."""

    def __init__(self, address: str) -> None:
        limit = 64 * 2**20
        options = [("grpc.max_send_message_length", limit), ("grpc.max_receive_message_length", limit)]
        self.channel = grpc.insecure_channel(address, options=options)
        self.stub = pb2_grpc.SearchServiceStub(self.channel)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench.default_store", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--dimension", type=int, default=192)
    parser.add_argument("--data", choices=["random", "speakers"], default="random")
    parser.add_argument("--milvus", choices=MILVUS_CHOICES, default="auto", help="auto is what `audiosearch up` starts")
    parser.add_argument(
        "--index-type", choices=["HNSW", "FLAT"], default="HNSW", help="HNSW is the collections' default"
    )
    parser.add_argument("--breadths", default="", help="search breadths (HNSW ef) to measure besides the default")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds like Ctrl-C: the stack this run started stops

    if args.data == "random":
        data, queries = random_unit(args.vectors, args.queries, args.dimension)
    else:
        data, queries = speaker_embeddings(args.vectors, args.queries, args.dimension, max(10, args.vectors // 65))
    truth = exact_top_k(data, queries)
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-default-store-"))
    results: dict = {"vectors": args.vectors, "dimension": args.dimension, "data": args.data, "queries": args.queries}
    results["index_type"] = args.index_type
    with Stack(work, ports={name: 0 for name in SERVICES}, milvus=args.milvus) as stack:
        store = "local Milvus server" if stack.milvus == "server" else "Milvus Lite"
        results["store"] = store
        print(f"`audiosearch up --milvus {args.milvus}` stack: {store} ({args.index_type}); {args.vectors:,} x "
              f"{args.dimension}-d {args.data} unit vectors, {args.queries:,} queries", flush=True)  # fmt: skip
        service = _SearchService(stack.services["search"].address)
        try:
            results["upsert_s"] = load_collection(service, COLLECTION, data, args.index_type)
            print(f"  upserted through the SearchService in {results['upsert_s']:.0f} s", flush=True)
            if stack.milvus_server is not None:
                results["index_s"], results["segments"] = wait_for_index(
                    stack.milvus_server.uri, COLLECTION, args.vectors, quiet_seconds=15
                )
                print(f"  indexed in {results['index_s']:.0f} s, {results['segments']} segment(s)", flush=True)
            service_search(service, COLLECTION, queries[:50], truth, 0)  # warm up
            points = []
            for breadth in [0] + [int(value) for value in args.breadths.split(",") if value]:
                point = service_search(service, COLLECTION, queries, truth, breadth)
                point["load"] = os.getloadavg()[0]
                points.append(point)
                name = "default" if breadth == 0 else str(breadth)
                print(f"  breadth {name:<8} recall@10 {point['recall']:.4f}  p50 {point['p50_ms']:.2f} ms  "
                      f"p99 {point['p99_ms']:.2f} ms  (load {point['load']:.1f})", flush=True)  # fmt: skip
        finally:
            service.channel.close()
    results["points"] = points
    default = points[0]
    met = default["recall"] >= 0.99 and default["p50_ms"] <= 10
    print(f"default stack ({store}), default breadth: recall@10 {default['recall']:.4f}, p50 {default['p50_ms']:.2f} ms"
          f" -> recall >= 0.99 and p50 <= 10 ms: {'MET' if met else 'NOT MET'}")  # fmt: skip
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=2))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
