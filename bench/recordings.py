"""Recordings at size: ingest real-time factor, then 5-s snippet search latency, through the public API on the stack.

    .venv/bin/python -m bench.recordings                  # 1 hour of recordings, 100 snippet queries, Milvus Lite
    .venv/bin/python -m bench.recordings --hours 100 --milvus server   # issue #15's 100-hour bench

The library is generated: one-minute recordings of one-second synthetic pieces (audiosearch.tools.synth.recording),
each seed distinct content. Queries are 5-s snippets cut at random offsets from stored recordings, with white noise
at 20 dB; each must come back MATCH at rank 1. Prints the load average beside the times: on a shared machine they
are upper bounds. Not part of the test suite.
"""

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time

import numpy as np

from audiosearch.client import AudioSearchClient
from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.tools import synth
from audiosearch.tools.evaluation import perturb
from audiosearch.tools.launcher import Stack

RATE = 16000
RECORDING_SECONDS = 60


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--snippet-seconds", type=float, default=5.0)
    parser.add_argument("--milvus", choices=("lite", "server"), default="lite")
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C, so the stack's services are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    count = max(1, round(args.hours * 3600 / RECORDING_SECONDS))
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="bench-recordings-") as scratch:
        with Stack(scratch, ports={}, milvus=args.milvus) as stack, AudioSearchClient(stack.gateway_address) as client:
            client.create_collection("library", purpose="recordings")
            started, ids = time.perf_counter(), []
            for seed in range(count):
                ids.append(
                    client.ingest(synth.encode(synth.recording(seed, RECORDING_SECONDS), RATE), "library").clip.id
                )
            ingest_seconds = time.perf_counter() - started
            load_after_ingest = os.getloadavg()[0]
            times, correct, matched = [], 0, 0
            length = int(args.snippet_seconds * RATE)
            for _ in range(args.queries):
                seed = int(rng.integers(count))
                first = int(rng.integers(0, RECORDING_SECONDS * RATE - length))
                snippet = synth.recording(seed, RECORDING_SECONDS)[first : first + length]
                audio = synth.encode(perturb.add_noise(snippet, 20, rng), RATE)
                began = time.perf_counter()
                hits = client.search("library", audio=audio, top_k=5).hits
                times.append((time.perf_counter() - began) * 1000)
                correct += bool(hits) and hits[0].clip.id == ids[seed]
                matched += bool(hits) and hits[0].decision == pb2.DECISION_MATCH
            vectors = next(s.vectors for s in client.stats() if s.name == "library")
    report = {
        "hours": round(count * RECORDING_SECONDS / 3600, 3),
        "recordings": count,
        "vectors": vectors,
        "milvus": args.milvus,
        "ingest_real_time_factor": round(ingest_seconds / (count * RECORDING_SECONDS), 4),
        "search_ms": {"p50": round(statistics.median(times), 1), "p95": round(float(np.percentile(times, 95)), 1)},
        "hit@1": correct / args.queries,
        "match_rate": matched / args.queries,
        "load_average": {"after_ingest": load_after_ingest, "after_search": os.getloadavg()[0]},
        "cpus": os.cpu_count(),
    }
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
