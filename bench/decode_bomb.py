"""Memory of the embedding service under decompression bombs (issue #11, defect 1), in one run:

a 1.1 MB FLAC that promises 599 s at 384 kHz (near-silent, so it compresses ~200x) is sent by 8 clients at once
to the embedding service started as its own process (`python -m embedding_service.server`, model logmel), while
a thread samples the process's RSS from /proc. Two scenarios, each on a fresh service:

- default limits: the bomb is refused from its header (rate x channels x duration) before decoding;
- decoded: the per-call cap raised so the bomb is decoded, to show decoding and resampling in bounded blocks and
  the process-wide budget of decoded samples (calls beyond it get RESOURCE_EXHAUSTED).

    .venv/bin/python -m bench.decode_bomb
    .venv/bin/python -m bench.decode_bomb --clients 8 --seconds 599 --rate 384000

Prints baseline (after one normal call), peak and after RSS, after/baseline, and each call's code and reason.
Targets: peak under 1.5 GB; after within 20% of baseline. Not part of the test suite.
"""

import argparse
import collections
import pathlib
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor

import grpc

from audiosearch.embedding.v1 import embedding_service_pb2 as pb2
from audiosearch.sdk.rpc_errors import error_info
from audiosearch.tools import synth
from bench.embedding_process import EmbeddingProcess

PEAK_TARGET_MB = 1536
AFTER_TARGET = 1.2
SCENARIOS = {
    "default limits": {},
    "decoded": {"AUDIOSEARCH_EMBEDDING_MAX_DECODED_SAMPLES": str(10**9)},
}


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


class PeakSampler:
    """Samples a process's RSS every `interval` seconds in a thread, keeping the largest."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.pid, self.interval, self.peak = pid, interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_mb(self.pid))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak, rss_mb(self.pid))


class Service(EmbeddingProcess):
    """The embedding service with model logmel and `extra_env`."""

    def __init__(self, extra_env: dict[str, str], log_path: pathlib.Path) -> None:
        super().__init__({"AUDIOSEARCH_EMBEDDING_MODELS": "logmel", **extra_env}, log_path)

    def embed(self, content: bytes) -> str:
        """'OK' or 'CODE REASON' of one EmbedAudio call with model logmel."""
        request = pb2.EmbedAudioRequest(options=pb2.EmbedOptions(model="logmel"), content=content)
        try:
            self.stub.EmbedAudio(request, timeout=600)
        except grpc.RpcError as error:
            info = error_info(error)
            return f"{error.code().name} {info.reason if info else '(no reason)'}"
        return "OK"


def run(name: str, extra_env: dict[str, str], content: bytes, clients: int, log_path: pathlib.Path) -> bool:
    service = Service(extra_env, log_path)
    try:
        normal = synth.encode(synth.generate("vowel", seed=1, duration_seconds=5.0, sample_rate=44100), 44100)
        with ThreadPoolExecutor(clients) as pool:
            # Baseline: a service that has served normal clips, as many at once as the bombs come.
            assert set(pool.map(service.embed, [normal] * clients)) == {"OK"}
            baseline = rss_mb(service.process.pid)
            sampler = PeakSampler(service.process.pid)
            outcomes = list(pool.map(service.embed, [content] * clients))
        peak = sampler.stop()
        after = rss_mb(service.process.pid)
        assert service.embed(normal) == "OK", "the service must still serve normal clips"
    finally:
        service.stop()
    met = peak < PEAK_TARGET_MB and after <= AFTER_TARGET * baseline
    counts = ", ".join(f"{count} x {outcome}" for outcome, count in collections.Counter(outcomes).items())
    print(f"{name}: {clients} concurrent bomb calls -> {counts}")
    print(
        f"  RSS baseline {baseline:.0f} MB, peak {peak:.0f} MB (target < {PEAK_TARGET_MB}), "
        f"after {after:.0f} MB = {after / baseline:.2f} x baseline (target <= {AFTER_TARGET}) "
        f"[{'met' if met else 'MISSED'}]"
    )
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=599)
    parser.add_argument("--rate", type=int, default=384_000)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), action="append", help="default: all")
    args = parser.parse_args()
    content = synth.near_silence_flac(args.seconds, args.rate)
    print(f"bomb: {len(content) / 1e6:.2f} MB FLAC, {args.seconds} s at {args.rate} Hz, mono")
    with tempfile.TemporaryDirectory() as folder:
        results = [
            run(name, SCENARIOS[name], content, args.clients, pathlib.Path(folder) / "embedding.log")
            for name in args.scenario or SCENARIOS
        ]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
