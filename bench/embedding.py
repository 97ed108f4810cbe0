"""Embedding speed of ecapa_tdnn and panns_cnn14 on 5-s clips (issue #3, done-when 2), in one run:

- eager: PaddleSpeech's network in paddle's eager mode, features included, as its executors run it;
- fast, in process: this service's fast path (the exported static graph under Paddle Inference), features included;
- gRPC, 1 client and 8 clients: EmbedAudio on the embedding service started as its own process
  (`python -m embedding_service.server`, fast path on), clips sent as 16-bit WAV at the model's rate.

    .venv/bin/python -m bench.embedding                      # random weights (built here; speed does not need them)
    .venv/bin/python -m bench.embedding --model-dir DIR      # installed weights (`audiosearch models fetch`)
    .venv/bin/python -m bench.embedding --rounds 5 --seconds 8
    .venv/bin/python -m bench.embedding --background-load 2   # beside 2 busy processes, as during an import

Each round measures every path of every model once (interleaved, so a burst of load from other processes hits all
paths alike); the table gives the median over rounds, and the load average (`uptime`) before and after each round.
Targets: ecapa_tdnn at most 300 ms per clip through the service at 1 client; throughput at 8 clients at least
0.85x the fast path in process. Not part of the test suite.
"""

import argparse
import multiprocessing
import os
import pathlib
import statistics
import sys
import tempfile
import threading
import time

import numpy as np

from audiosearch.embedding.v1 import embedding_service_pb2 as pb2
from audiosearch.tools import synth
from bench.embedding_process import EmbeddingProcess
from embedding_service.models import paddlespeech, weights

MODELS = ("ecapa_tdnn", "panns_cnn14")
CLIP_SECONDS = 5.0
PATHS = ("eager", "fast, in process", "gRPC, 1 client", "gRPC, 8 clients")
ECAPA_TARGET_MS = 300.0
THROUGHPUT_TARGET = 0.85
ROOT = pathlib.Path(__file__).resolve().parents[1]


def _random_store(into: pathlib.Path) -> weights.WeightStore:
    sys.path.insert(0, str(ROOT / "tests" / "embedding"))
    import ps_archives

    archives = [ps_archives.make_archive(name, into) for name in MODELS]
    store = weights.WeightStore(into / "models", ps_archives.specs_for(*archives))
    for archive in archives:
        store.import_(archive.name, archive.path)
    return store


def _sequential(call, seconds: float) -> tuple[float, list[float]]:
    """(clips per second, per-call seconds) of back-to-back calls for about `seconds` (at least 3 calls)."""
    latencies, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(latencies) < 3:
        began = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - began)
    return len(latencies) / (time.perf_counter() - start), latencies


def _concurrent(call, clients: int, seconds: float) -> tuple[float, list[float]]:
    """(clips per second, per-call seconds) of `clients` threads calling back to back for about `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    stop = time.perf_counter() + seconds

    def client(index):
        while time.perf_counter() < stop or not latencies[index]:
            began = time.perf_counter()
            call()
            latencies[index].append(time.perf_counter() - began)

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [value for values in latencies for value in values]
    return len(every) / (time.perf_counter() - start), every


class Service(EmbeddingProcess):
    """The embedding service serving MODELS on their fast path."""

    def __init__(self, model_dir: pathlib.Path, threads: int, log_path: pathlib.Path) -> None:
        super().__init__(
            {
                "AUDIOSEARCH_EMBEDDING_MODEL_DIR": str(model_dir),
                "AUDIOSEARCH_EMBEDDING_MODELS": ",".join(MODELS),
                "AUDIOSEARCH_EMBEDDING_MODEL_THREADS": str(threads),
                "AUDIOSEARCH_EMBEDDING_FAST_INFERENCE": "true",
            },
            log_path,
        )
        models = {
            m.name: m for m in self.stub.ListModels(pb2.ListModelsRequest(), timeout=120, wait_for_ready=True).models
        }
        for name in MODELS:
            if not models[name].available:
                raise RuntimeError(f"{name} is unavailable in the service: {models[name].unavailable_reason}")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _mark(met: bool) -> str:
    return "met" if met else "MISSED"


def _busy(stop) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


class BackgroundLoad:
    """`processes` busy processes beside the measurement, as the other services of an import load the machine; each
    stops when the block ends (or at its own end, if this process dies: daemonic)."""

    def __init__(self, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._workers = [context.Process(target=_busy, args=(self._stop,), daemon=True) for _ in range(processes)]

    def __enter__(self) -> "BackgroundLoad":
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", help="installed weights; default: random weights made here")
    parser.add_argument("--seconds", type=float, default=6.0, help="time per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the table gives the median over them")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads per forward (0: all cores)")
    parser.add_argument(
        "--background-load", type=int, default=0, metavar="N", help="N busy processes beside the measured paths"
    )
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory()
    store = weights.WeightStore(args.model_dir) if args.model_dir else _random_store(pathlib.Path(scratch.name))
    print(
        f"{os.cpu_count()} cores; {CLIP_SECONDS:g}-s clips; {args.rounds} rounds of {args.seconds:g} s per path; "
        f"weights: {args.model_dir or 'random, in the published layout'}; "
        f"background load: {args.background_load} busy processes"
    )
    print(f"load average (1, 5, 15 min) at start: {_load()}", flush=True)

    models, calls = {}, {}
    for name in MODELS:
        eager = paddlespeech.MODELS[name](store, args.threads, fast=False)
        fast = paddlespeech.MODELS[name](store, args.threads, fast=True)  # exports the graph (cached) first
        if not fast._predictor:
            raise SystemExit(f"{name}: the fast path did not build; see the log above")
        clip = synth.generate("vowel", 1, CLIP_SECONDS, eager.sample_rate)
        models[name] = (eager, fast, clip)
    # The service loads from model_dir with the published registry; random archives differ only in md5, which
    # loading does not check (it checks the install-time manifest).
    service = Service(store.root, args.threads, pathlib.Path(scratch.name) / "embedding.log")
    try:
        for name, (eager, fast, clip) in models.items():
            request = pb2.EmbedAudioRequest(
                options=pb2.EmbedOptions(model=name), content=synth.encode(clip, eager.sample_rate, ".wav")
            )
            served = np.asarray(service.stub.EmbedAudio(request, timeout=120).embeddings[0].vector, np.float32)
            reference = eager.embed_batch([clip])[0]
            cosine = (float(reference @ fast.embed_batch([clip])[0]), float(reference @ served))
            print(f"{name}: cosine to eager: fast in process {cosine[0]:.6f}, over gRPC {cosine[1]:.6f}")
            calls[name] = {
                "eager": lambda e=eager, c=clip: _sequential(lambda: e.embed_batch([c]), args.seconds),
                "fast, in process": lambda f=fast, c=clip: _sequential(lambda: f.embed_batch([c]), args.seconds),
                "gRPC, 1 client": lambda r=request: _sequential(
                    lambda: service.stub.EmbedAudio(r, timeout=120), args.seconds
                ),
                "gRPC, 8 clients": lambda r=request: _concurrent(
                    lambda: service.stub.EmbedAudio(r, timeout=120), 8, args.seconds
                ),
            }
            for _ in range(2):  # warm-up: first calls build kernels and caches
                eager.embed_batch([clip])
                fast.embed_batch([clip])
                service.stub.EmbedAudio(request, timeout=120)

        rates = {name: {path: [] for path in PATHS} for name in MODELS}
        p50s = {name: {path: [] for path in PATHS} for name in MODELS}
        with BackgroundLoad(args.background_load):
            for round_ in range(args.rounds):
                before = _load()
                for name in MODELS:
                    for path in PATHS:
                        rate, latencies = calls[name][path]()
                        rates[name][path].append(rate)
                        p50s[name][path].append(statistics.median(latencies) * 1000)
                print(f"round {round_ + 1}: load average before {before}, after {_load()}", flush=True)
    finally:
        service.stop()

    print()
    print(f"{'model':<12} {'path':<18} {'ms/clip':>8} {'clips/s':>8} {'p50 ms':>7} {'clips/s range':>14}  ratio")
    verdicts = []
    for name in MODELS:
        median = {path: statistics.median(rates[name][path]) for path in PATHS}
        for path in PATHS:
            rate = median[path]
            low, high = min(rates[name][path]), max(rates[name][path])
            p50 = statistics.median(p50s[name][path])
            if path == "eager":
                ratio = "1.00x (reference)"
            elif path == "fast, in process":
                ratio = f"{rate / median['eager']:.2f}x eager"
            else:
                ratio = f"{rate / median['eager']:.2f}x eager, {rate / median['fast, in process']:.2f}x fast"
            print(f"{name:<12} {path:<18} {1000 / rate:8.0f} {rate:8.2f} {p50:7.0f} {low:6.2f}-{high:<7.2f}  {ratio}")
        share = median["gRPC, 8 clients"] / median["fast, in process"]
        verdicts.append(
            f"{name}: gRPC 8 clients / fast in process = {share:.2f} (target >= {THROUGHPUT_TARGET}): "
            f"{_mark(share >= THROUGHPUT_TARGET)}"
        )
        if name == "ecapa_tdnn":
            one = 1000 / median["gRPC, 1 client"]
            verdicts.insert(
                0,
                f"ecapa_tdnn: gRPC 1 client {one:.0f} ms per clip (target <= {ECAPA_TARGET_MS:.0f} ms): "
                f"{_mark(one <= ECAPA_TARGET_MS)}",
            )
    print()
    for verdict in verdicts:
        print(verdict)
    print(f"load average (1, 5, 15 min) at end: {_load()}")


if __name__ == "__main__":
    main()
