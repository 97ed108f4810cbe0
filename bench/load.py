"""Load test: concurrent clients ingesting and searching against the four services as processes, on loopback.

    .venv/bin/python bench/load.py                     # 8 clients, 60 s
    .venv/bin/python bench/load.py --clients 4 --seconds 20 --json

Each client alternates: ingest a fresh synthetic clip (1 s, 16 kHz wav), then search the collection with another
fresh clip (top 10). Prints throughput, p50/p99 latency per operation and every error by status code; errors other
than RESOURCE_EXHAUSTED (the embedding service's deliberate back-pressure) make it exit non-zero. Bounded: it stops
after --seconds or --max-operations, whichever comes first, and only ever binds 127.0.0.1.
"""

import argparse
import collections
import json
import pathlib
import sys
import tempfile
import threading
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from audiosearch.client import AudioSearchClient  # noqa: E402
from audiosearch.sdk import errors  # noqa: E402
from audiosearch.tools import synth  # noqa: E402
from audiosearch.tools.launcher import SERVICES, Stack  # noqa: E402

DELIBERATE = {"RESOURCE_EXHAUSTED"}


def clip(seed: int) -> bytes:
    sound_class = synth.CLASSES[seed % len(synth.CLASSES)]
    return synth.encode(synth.generate(sound_class, seed, 1.0, 16000), 16000, ".wav")


class Load:
    def __init__(self, address: str, clients: int, seconds: float, max_operations: int) -> None:
        self.address = address
        self.clients = clients
        self.seconds = seconds
        self.max_operations = max_operations
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = collections.defaultdict(list)
        self.errors: collections.Counter = collections.Counter()
        self.operations = 0
        self.seed = 1_000_000

    def _next_seed(self) -> int | None:
        with self.lock:
            if self.operations >= self.max_operations:
                return None
            self.operations += 1
            self.seed += 1
            return self.seed

    def _timed(self, kind: str, call) -> None:
        started = time.perf_counter()
        try:
            call()
        except errors.AudioSearchError as error:
            with self.lock:
                self.errors[f"{kind}:{error.code_name}"] += 1
            return
        with self.lock:
            self.latencies[kind].append(time.perf_counter() - started)

    def _client(self, stop_at: float) -> None:
        with AudioSearchClient(self.address, timeout_seconds=30) as client:
            while time.monotonic() < stop_at:
                seed = self._next_seed()
                if seed is None:
                    return
                content = clip(seed)
                if seed % 2:
                    self._timed("ingest", lambda c=content, s=seed: client.ingest(c, "load", source=f"{s}.wav"))
                else:
                    self._timed("search", lambda c=content: client.search("load", audio=c, top_k=10))

    def run(self) -> dict:
        with AudioSearchClient(self.address) as client:
            client.create_collection("load", "logmel")
            for seed in range(50):  # something to search from the first call on
                client.ingest(clip(seed), "load", source=f"warm{seed}.wav")
        started = time.monotonic()
        threads = [
            threading.Thread(target=self._client, args=(started + self.seconds,), name=f"client{i}")
            for i in range(self.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        return self._summary(elapsed)

    def _summary(self, elapsed: float) -> dict:
        done = sum(len(values) for values in self.latencies.values())
        result = {
            "clients": self.clients,
            "seconds": round(elapsed, 1),
            "operations_ok": done,
            "throughput_ops_per_s": round(done / elapsed, 1),
            "errors": dict(self.errors),
            "unexpected_errors": sum(n for key, n in self.errors.items() if key.split(":")[1] not in DELIBERATE),
        }
        for kind, values in sorted(self.latencies.items()):
            ms = np.asarray(values) * 1000
            result[kind] = {
                "count": len(values),
                "per_s": round(len(values) / elapsed, 1),
                "p50_ms": round(float(np.percentile(ms, 50)), 1),
                "p99_ms": round(float(np.percentile(ms, 99)), 1),
                "max_ms": round(float(ms.max()), 1),
            }
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-operations", type=int, default=200_000)
    parser.add_argument("--data-dir", default="", help="default: a fresh temporary folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.clients <= 64 or not 0 < args.seconds <= 600:
        sys.exit("load.py: --clients must be 1..64 and --seconds 0..600")
    data_dir = pathlib.Path(args.data_dir or tempfile.mkdtemp(prefix="audiosearch-load-"))
    with Stack(data_dir, ports={name: 0 for name in SERVICES}) as stack:
        result = Load(stack.gateway_address, args.clients, args.seconds, args.max_operations).run()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['clients']} clients, {result['seconds']} s: {result['throughput_ops_per_s']} ops/s ok")
        for kind in ("ingest", "search"):
            if kind in result:
                row = result[kind]
                rate = f"{row['per_s']:>7}/s"
                print(f"  {kind:<7} {row['count']:>6} ok  {rate}  p50 {row['p50_ms']} ms  p99 {row['p99_ms']} ms")
        print(f"  errors: {result['errors'] or 'none'}")
    sys.exit(1 if result["unexpected_errors"] else 0)


if __name__ == "__main__":
    main()
