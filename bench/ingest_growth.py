"""Ingest cost as a collection grows: the four services as processes on the embedded default (Milvus Lite + SQLite).

    .venv/bin/python bench/ingest_growth.py                    # 2,000 one-second clips, logmel
    .venv/bin/python bench/ingest_growth.py --clips 500 --window 50 --json

One client ingests distinct synthetic clips one after another. At each checkpoint (the first clips, every 1,000, the
last) it prints the median ingest latency of the last --window ingests and, from each service's Prometheus /metrics,
the mean time of each RPC of an ingest over the same clips: metadata FindByContentHash, embedding StreamEmbedAudio,
metadata CreateClip, search Upsert, metadata UpdateClipState. A flat column means ingest cost does not grow with the
collection. Binds 127.0.0.1 only.
"""

import argparse
import json
import pathlib
import re
import socket
import statistics
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from audiosearch.client import AudioSearchClient  # noqa: E402
from audiosearch.tools import synth  # noqa: E402
from audiosearch.tools.launcher import SERVICES, Stack  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=2000)
    parser.add_argument("--window", type=int, default=100, help="ingests per figure (the last before a checkpoint)")
    parser.add_argument("--model", default="logmel")
    parser.add_argument("--data-dir", default="", help="default: a fresh temporary folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.window <= args.clips <= 100_000:
        sys.exit("ingest_growth.py: need 1 <= --window <= --clips <= 100000")
    data_dir = pathlib.Path(args.data_dir or tempfile.mkdtemp(prefix="audiosearch-growth-"))
    metrics_ports = {name: free_port() for name in SERVICES if name != "gateway"}
    extra_env = {f"AUDIOSEARCH_{name.upper()}_METRICS_PORT": str(port) for name, port in metrics_ports.items()}
    with Stack(data_dir, ports={name: 0 for name in SERVICES}, extra_env=extra_env) as stack:
        rows = run(stack.gateway_address, metrics_ports, args.clips, args.window, args.model)
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
