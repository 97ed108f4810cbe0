"""Embedding throughput: eager network vs Paddle Inference (oneDNN) vs the EmbeddingService over gRPC (1 and 8
clients), for ecapa_tdnn and panns_cnn14 on 5-s clips.

    .venv/bin/python -m bench.embedding                      # random weights (built here; speed does not depend on them)
    .venv/bin/python -m bench.embedding --model-dir DIR      # installed weights (`audiosearch models fetch`)

Ratios are against the eager forward of one clip (features included). Not part of the test suite.
"""

import argparse
import pathlib
import statistics
import sys
import tempfile
import threading
import time

import grpc
import numpy as np

from audiosearch import synth
from audiosearch.embedding.v1 import embedding_service_pb2 as pb2
from audiosearch.embedding.v1 import embedding_service_pb2_grpc as pb2_grpc
from embedding_service.config import EmbeddingSettings
from embedding_service.models import paddlespeech, weights
from embedding_service.server import build_core, build_registry, build_server

MODELS = ("ecapa_tdnn", "panns_cnn14")


def _random_store(into: pathlib.Path) -> weights.WeightStore:
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "embedding"))
    import ps_archives

    archives = [ps_archives.make_archive(name, into) for name in MODELS]
    store = weights.WeightStore(into / "models", ps_archives.specs_for(*archives))
    for archive in archives:
        store.import_(archive.name, archive.path)
    return store


def _per_second(call, seconds: float) -> float:
    call()  # warm-up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        call()
        done += 1
    return done / (time.perf_counter() - start)


def _grpc_rate(stub, name: str, content: bytes, clients: int, seconds: float) -> float:
    request = pb2.EmbedAudioRequest(options=pb2.EmbedOptions(model=name), content=content)
    stub.EmbedAudio(request, timeout=120)
    counts = [0] * clients
    stop = time.perf_counter() + seconds

    def client(index):
        while time.perf_counter() < stop:
            stub.EmbedAudio(request, timeout=120)
            counts[index] += 1

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", help="installed weights; default: random weights made here")
    parser.add_argument("--seconds", type=float, default=10.0, help="time per measurement")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads per forward (0: all cores)")
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory()
    store = weights.WeightStore(args.model_dir) if args.model_dir else _random_store(pathlib.Path(scratch.name))
    settings = EmbeddingSettings(
        listen="127.0.0.1:0", model_dir=str(store.root), models=MODELS, model_threads=args.threads, fast_inference=True
    )
    # The service loads from settings.model_dir with the published registry; random archives differ only in md5,
    # which loading does not check (it checks the install-time manifest).
    running = build_server(settings, build_core(settings, build_registry(settings)))
    running.server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    stub = pb2_grpc.EmbeddingServiceStub(channel)
    print(f"{'model':<12} {'path':<22} {'clips/s':>8} {'x eager':>8}")
    for name in MODELS:
        eager = paddlespeech.MODELS[name](store, args.threads, fast=False)
        fast = paddlespeech.MODELS[name](store, args.threads, fast=True)
        clip = synth.generate("vowel", 1, 5.0, eager.sample_rate)
        content = synth.encode(clip, eager.sample_rate, ".wav")
        rates = {
            "eager": _per_second(lambda: eager.embed_batch([clip]), args.seconds),
            "fast (Paddle Inference)": _per_second(lambda: fast.embed_batch([clip]), args.seconds),
            "gRPC, 1 client": _grpc_rate(stub, name, content, 1, args.seconds),
            "gRPC, 8 clients": _grpc_rate(stub, name, content, 8, args.seconds),
        }
        cosine = float(np.dot(eager.embed_batch([clip])[0], fast.embed_batch([clip])[0]))
        for label, rate in rates.items():
            print(f"{name:<12} {label:<22} {rate:8.2f} {rate / rates['eager']:8.2f}")
        print(f"{name:<12} fast vs eager cosine {cosine:.6f}; median of one fast call "
              f"{statistics.median(_time(fast, clip) for _ in range(3)) * 1000:.0f} ms")
    channel.close()
    running.stop(0)


def _time(model, clip) -> float:
    start = time.perf_counter()
    model.embed_batch([clip])
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
