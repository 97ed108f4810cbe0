"""Embedding speed of ecapa_tdnn, panns_cnn14 and ge2e on 5-s clips (issues #3, #12 and #14), in one run:

- eager: PaddleSpeech's network in paddle's eager mode, features included, as its executors run it;
- fast, in process: this service's fast path (the exported static graph under Paddle Inference), features included;
  for ge2e (numpy), the model in process;
- gRPC, 1 client and 8 clients: EmbedAudio on the embedding service started as its own process
  (`python -m embedding_service.server`, fast path on), clips sent as 16-bit WAV at the model's rate.

    .venv/bin/python -m bench.embedding                      # random weights (built here; speed does not need them)
    .venv/bin/python -m bench.embedding --model-dir DIR      # installed weights (`audiosearch models fetch`)
    .venv/bin/python -m bench.embedding --rounds 5 --seconds 8
    .venv/bin/python -m bench.embedding --background-load 2   # then again beside 2 busy processes, as in an import
    .venv/bin/python -m bench.embedding --models ecapa_tdnn,ge2e

Each round measures every path of every model once (interleaved, so a burst of load from other processes hits all
paths alike); the table gives the median over rounds, and the load average (`uptime`) before and after each round.
CPU ms/clip is the CPU time (every thread) of the process that embeds: this one for the in-process paths, the
service's for the gRPC ones; beside busy processes a path's speed follows it, whatever its threads.
With --background-load N the rounds run twice: first as the machine is ("quiet"), then beside N busy processes
("loaded"), each phase with its own table. Targets (quiet phase): ecapa_tdnn at most 300 ms per clip through the
service at 1 client; throughput at 8 clients at least 0.85x the fast path in process; ge2e at most 150 ms per clip
through the service at 1 client. Loaded phase: ecapa_tdnn's fast path at least 2x eager; ecapa_tdnn and ge2e at
1 client through the service at most 2x their quiet time. Not part of the test suite.
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
from embedding_service.models.ge2e import Ge2eModel

PADDLE_MODELS = ("ecapa_tdnn", "panns_cnn14")
MODELS = (*PADDLE_MODELS, "ge2e")
CLIP_SECONDS = 5.0
ECAPA_TARGET_MS = 300.0
GE2E_TARGET_MS = 150.0
THROUGHPUT_TARGET = 0.85
FAST_OVER_EAGER_LOADED = 2.0
LOADED_OVER_QUIET = 2.0
ROOT = pathlib.Path(__file__).resolve().parents[1]


def _random_store(into: pathlib.Path) -> weights.WeightStore:
    sys.path.insert(0, str(ROOT / "tests" / "embedding"))
    import ps_archives

    archives = [ps_archives.make_archive(name, into) for name in PADDLE_MODELS]
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
    """The embedding service serving `names` (PaddleSpeech ones on their fast path)."""

    def __init__(self, names, model_dir: pathlib.Path, threads: int, log_path: pathlib.Path) -> None:
        super().__init__(
            {
                "AUDIOSEARCH_EMBEDDING_MODEL_DIR": str(model_dir),
                "AUDIOSEARCH_EMBEDDING_MODELS": ",".join(names),
                "AUDIOSEARCH_EMBEDDING_MODEL_THREADS": str(threads),
                "AUDIOSEARCH_EMBEDDING_FAST_INFERENCE": "true",
            },
            log_path,
        )
        models = {
            m.name: m for m in self.stub.ListModels(pb2.ListModelsRequest(), timeout=120, wait_for_ready=True).models
        }
        for name in names:
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


def _measure(calls, rounds: int, background: int) -> tuple[dict, dict, dict]:
    """Per model and path: clips/s, p50 ms and CPU ms per clip of each round, beside `background` busy processes.
    `calls` maps model -> path -> (measurement, CPU clock of the process that embeds)."""
    rates = {name: {path: [] for path in paths} for name, paths in calls.items()}
    p50s = {name: {path: [] for path in paths} for name, paths in calls.items()}
    cpus = {name: {path: [] for path in paths} for name, paths in calls.items()}
    with BackgroundLoad(background):
        for round_ in range(rounds):
            before = _load()
            for name, paths in calls.items():
                for path, (call, cpu_clock) in paths.items():
                    cpu_before = cpu_clock()
                    rate, latencies = call()
                    cpus[name][path].append((cpu_clock() - cpu_before) / len(latencies) * 1000)
                    rates[name][path].append(rate)
                    p50s[name][path].append(statistics.median(latencies) * 1000)
            print(f"round {round_ + 1}: load average before {before}, after {_load()}", flush=True)
    return rates, p50s, cpus


def _table(rates, p50s, cpus) -> dict:
    """Prints the phase's table; returns the median clips/s per model and path."""
    print(
        f"{'model':<12} {'path':<18} {'ms/clip':>8} {'CPU ms':>7} {'clips/s':>8} {'p50 ms':>7} {'clips/s range':>14}"
        "  ratio"
    )
    medians = {}
    for name, paths in rates.items():
        median = medians[name] = {path: statistics.median(values) for path, values in paths.items()}
        for path, values in paths.items():
            rate, p50, cpu = median[path], statistics.median(p50s[name][path]), statistics.median(cpus[name][path])
            if path == "eager":
                ratio = "1.00x (reference)"
            elif path == "fast, in process":
                ratio = f"{rate / median['eager']:.2f}x eager" if "eager" in median else "(reference)"
            elif "eager" in median:
                ratio = f"{rate / median['eager']:.2f}x eager, {rate / median['fast, in process']:.2f}x fast"
            else:
                ratio = f"{rate / median['fast, in process']:.2f}x in process"
            low, high = min(values), max(values)
            print(
                f"{name:<12} {path:<18} {1000 / rate:8.0f} {cpu:7.0f} {rate:8.2f} {p50:7.0f} {low:6.2f}-{high:<7.2f}"
                f"  {ratio}"
            )
    return medians


def _verdicts(quiet: dict, loaded: dict | None, background: int) -> list[str]:
    verdicts = []
    for name, median in quiet.items():
        share = median["gRPC, 8 clients"] / median["fast, in process"]
        verdicts.append(
            f"{name}: gRPC 8 clients / fast in process = {share:.2f} (target >= {THROUGHPUT_TARGET}): "
            f"{_mark(share >= THROUGHPUT_TARGET)}"
        )
    for name, target in (("ecapa_tdnn", ECAPA_TARGET_MS), ("ge2e", GE2E_TARGET_MS)):
        if name in quiet:
            one = 1000 / quiet[name]["gRPC, 1 client"]
            verdicts.append(
                f"{name}: gRPC 1 client {one:.0f} ms per clip, quiet phase (target <= {target:.0f} ms): "
                f"{_mark(one <= target)}"
            )
    if loaded is None:
        return verdicts
    if "ecapa_tdnn" in loaded:
        fast = loaded["ecapa_tdnn"]["fast, in process"] / loaded["ecapa_tdnn"]["eager"]
        verdicts.append(
            f"ecapa_tdnn: fast path / eager beside {background} busy processes = {fast:.2f}x "
            f"(target >= {FAST_OVER_EAGER_LOADED:g}x): {_mark(fast >= FAST_OVER_EAGER_LOADED)}"
        )
    for name in ("ecapa_tdnn", "ge2e"):
        if name in loaded:
            one, busy = 1000 / quiet[name]["gRPC, 1 client"], 1000 / loaded[name]["gRPC, 1 client"]
            verdicts.append(
                f"{name}: gRPC 1 client {busy:.0f} ms per clip beside {background} busy processes, "
                f"{busy / one:.2f}x its quiet {one:.0f} ms (target <= {LOADED_OVER_QUIET:g}x): "
                f"{_mark(busy / one <= LOADED_OVER_QUIET)}"
            )
    if "ge2e" in loaded:
        busy, limit = 1000 / loaded["ge2e"]["gRPC, 1 client"], LOADED_OVER_QUIET * GE2E_TARGET_MS
        verdicts.append(
            f"ge2e: gRPC 1 client beside {background} busy processes {busy:.0f} ms per clip "
            f"(target <= {limit:.0f} ms, 2x its quiet target): {_mark(busy <= limit)}"
        )
    return verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", help="installed weights; default: random weights made here")
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, of {', '.join(MODELS)}")
    parser.add_argument("--seconds", type=float, default=6.0, help="time per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per phase; tables give the median over them")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads per forward (0: all cores)")
    parser.add_argument(
        "--background-load",
        type=int,
        default=0,
        metavar="N",
        help="after the quiet rounds, the same rounds beside N busy processes",
    )
    args = parser.parse_args()
    names = [name for name in args.models.split(",") if name]
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        parser.error(f"unknown models {unknown}; known: {', '.join(MODELS)}")
    scratch = tempfile.TemporaryDirectory()
    store = weights.WeightStore(args.model_dir) if args.model_dir else _random_store(pathlib.Path(scratch.name))
    print(
        f"{os.cpu_count()} cores; {CLIP_SECONDS:g}-s clips; {args.rounds} rounds of {args.seconds:g} s per path "
        f"and phase; weights: {args.model_dir or 'random, in the published layout'} (ge2e: resemblyzer's); "
        f"background load: {args.background_load} busy processes"
    )
    print(f"load average (1, 5, 15 min) at start: {_load()}", flush=True)

    # Per model: (in-process callables by path, the clip, its rate); eager only for the PaddleSpeech networks.
    models: dict[str, tuple[dict, np.ndarray]] = {}
    for name in names:
        if name == "ge2e":
            ge2e = Ge2eModel()
            if not ge2e.available:
                raise SystemExit(f"ge2e: {ge2e.unavailable_reason}")
            models[name] = ({"fast, in process": ge2e}, synth.generate("vowel", 1, CLIP_SECONDS, ge2e.sample_rate))
            continue
        eager = paddlespeech.MODELS[name](store, args.threads, fast=False)
        fast = paddlespeech.MODELS[name](store, args.threads, fast=True)  # exports the graph (cached) first
        if not fast._predictor:
            raise SystemExit(f"{name}: the fast path did not build; see the log above")
        print(f"{name}: fast path on the {fast.engine_used} engine")
        clip = synth.generate("vowel", 1, CLIP_SECONDS, eager.sample_rate)
        models[name] = ({"eager": eager, "fast, in process": fast}, clip)
    # The service loads from model_dir with the published registry; random archives differ only in md5, which
    # loading does not check (it checks the install-time manifest).
    service = Service(names, store.root, args.threads, pathlib.Path(scratch.name) / "embedding.log")
    calls: dict[str, dict] = {}
    try:
        for name, (local, clip) in models.items():
            rate = next(iter(local.values())).sample_rate
            request = pb2.EmbedAudioRequest(
                options=pb2.EmbedOptions(model=name), content=synth.encode(clip, rate, ".wav")
            )
            served = np.asarray(service.stub.EmbedAudio(request, timeout=120).embeddings[0].vector, np.float32)
            first, *others = local
            reference = local[first].embed_batch([clip])[0]
            cosines = {path: float(reference @ local[path].embed_batch([clip])[0]) for path in others}
            cosines["over gRPC"] = float(reference @ served)
            print(f"{name}: cosine to {first}: " + ", ".join(f"{k} {v:.6f}" for k, v in cosines.items()))
            calls[name] = {
                path: (lambda m=model, c=clip: _sequential(lambda: m.embed_batch([c]), args.seconds), time.process_time)
                for path, model in local.items()
            }
            calls[name]["gRPC, 1 client"] = (
                lambda r=request: _sequential(lambda: service.stub.EmbedAudio(r, timeout=300), args.seconds),
                service.cpu_seconds,
            )
            calls[name]["gRPC, 8 clients"] = (
                lambda r=request: _concurrent(lambda: service.stub.EmbedAudio(r, timeout=300), 8, args.seconds),
                service.cpu_seconds,
            )
            for _ in range(2):  # warm-up: first calls build kernels and caches
                for model in local.values():
                    model.embed_batch([clip])
                service.stub.EmbedAudio(request, timeout=120)

        print("\nquiet phase: the machine as it is", flush=True)
        quiet_phase = _measure(calls, args.rounds, 0)
        loaded_phase = None
        if args.background_load:
            print(f"\nloaded phase: beside {args.background_load} busy processes", flush=True)
            loaded_phase = _measure(calls, args.rounds, args.background_load)
    finally:
        service.stop()

    print("\nquiet phase")
    quiet = _table(*quiet_phase)
    loaded = None
    if loaded_phase is not None:
        print(f"\nloaded phase: beside {args.background_load} busy processes")
        loaded = _table(*loaded_phase)
    print()
    for verdict in _verdicts(quiet, loaded, args.background_load):
        print(verdict)
    print(f"load average (1, 5, 15 min) at end: {_load()}")


if __name__ == "__main__":
    main()
