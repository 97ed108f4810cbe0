"""Ingest throughput (issue #14, done-when 1, first half), in one run: files/s of an import job through the four
services beside embed-only files/s of the same files sent straight to the embedding service at the same concurrency,
for logmel and ecapa_tdnn (random weights in the published layout, made here), and the hours the seed's 650k clips
would take at the measured rate per embedding core.

    .venv/bin/python -m bench.ingest                 # 2,000 5-s clips per model
    .venv/bin/python -m bench.ingest --files 300     # quicker

Embed-only is measured before and after the job, and the job is compared with their mean, so drift in the machine's
load is shared; with --rounds N, N jobs alternate with N + 1 embed-only runs and the table shows the round of median
ratio. Target: import job >= 0.9x embed-only for both models.
"""

import argparse
import os
import pathlib
import statistics
import sys
import tempfile
import threading
import time

from audiosearch.client import AudioSearchClient
from audiosearch.embedding.v1 import embedding_service_pb2 as embedding_pb2
from audiosearch.embedding.v1 import embedding_service_pb2_grpc as embedding_grpc
from audiosearch.tools import synth
from audiosearch.tools.launcher import SERVICES, Stack
from audiosearch.type.v1 import import_job_pb2
from embedding_service.models import weights

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODELS = ("logmel", "ecapa_tdnn")
CLIP_SECONDS = 5.0
SEED_CLIPS = 650_000
TARGET = 0.9
KEEP_AUDIO = {"default": None, "yes": True, "no": False}


def _random_store(into: pathlib.Path) -> weights.WeightStore:
    """ecapa_tdnn weights with random values in the published layout (speed does not need trained ones)."""
    sys.path.insert(0, str(ROOT / "tests" / "embedding"))
    import ps_archives

    archive = ps_archives.make_archive("ecapa_tdnn", into)
    store = weights.WeightStore(into / "models", ps_archives.specs_for(archive))
    store.import_(archive.name, archive.path)
    return store


def _library(folder: pathlib.Path, count: int) -> list[bytes]:
    folder.mkdir(parents=True)
    contents = []
    for seed in range(count):
        sound_class = synth.CLASSES[seed % len(synth.CLASSES)]
        content = synth.encode(synth.generate(sound_class, 40_000 + seed, CLIP_SECONDS, 16000), 16000, ".wav")
        (folder / f"clip_{seed:05}.wav").write_bytes(content)
        contents.append(content)
    return contents


def _embed_only(address: str, model: str, contents: list[bytes], concurrency: int) -> float:
    """Files/s of `concurrency` clients embedding every file once, straight to the embedding service."""
    import grpc

    channel = grpc.insecure_channel(address, options=[("grpc.max_send_message_length", -1)])
    stub = embedding_grpc.EmbeddingServiceStub(channel)
    cursor = iter(range(len(contents)))
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            options = embedding_pb2.EmbedOptions(model=model)
            request = embedding_pb2.EmbedAudioRequest(options=options, content=contents[index])
            stub.EmbedAudio(request, timeout=300)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rate = len(contents) / (time.perf_counter() - started)
    channel.close()
    return rate


def _import_job(
    client: AudioSearchClient, model: str, folder: pathlib.Path, name: str, files: int, keep_audio: bool | None
) -> float:
    """Files/s of an import job of the folder into a new collection, from create to SUCCEEDED."""
    client.create_collection(name, model, keep_audio=keep_audio)
    started = time.perf_counter()
    job = client.create_import_job(name, str(folder))
    final = list(client.watch_import_job(job.id))[-1]
    seconds = time.perf_counter() - started
    if final.state != import_job_pb2.IMPORT_JOB_STATE_SUCCEEDED or final.files_added != files:
        raise SystemExit(f"the import job did not add every file: {final}")
    return files / seconds


def _cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU seconds (user + system) each service process has used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for name, service in stack.services.items():
        fields = pathlib.Path(f"/proc/{service.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        used[name] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def _own_cpu_seconds() -> float:
    """CPU seconds (user + system) this process has used so far, all threads."""
    times = os.times()
    return times.user + times.system


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000, help="5-s clips per model")
    parser.add_argument("--concurrency", type=int, default=4, help="embeds in flight, both paths")
    parser.add_argument(
        "--rounds", type=int, default=1, help="import jobs per model, each between two embed-only runs; the median"
    )
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated, from: " + ", ".join(MODELS))
    parser.add_argument(
        "--keep-audio",
        choices=KEEP_AUDIO,
        default="default",
        help="the collection keeps its clips' audio: as CreateCollection decides (kept), yes, or no",
    )
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as scratch_name:
        scratch = pathlib.Path(scratch_name)
        store = _random_store(scratch / "weights")
        library = scratch / "library"
        contents = _library(library, args.files)
        print(
            f"{cores} cores, 1 embedding replica; {args.files} {CLIP_SECONDS:g}-s clips; concurrency "
            f"{args.concurrency}; kept audio: {args.keep_audio}; load average at start: {_load()}",
            flush=True,
        )
        env = {
            "AUDIOSEARCH_EMBEDDING_MODEL_DIR": str(store.root),
            "AUDIOSEARCH_EMBEDDING_MODELS": args.models,
            "AUDIOSEARCH_GATEWAY_IMPORT_CONCURRENCY": str(args.concurrency),
            "AUDIOSEARCH_EMBEDDING_LOG_LEVEL": "WARNING",
            "AUDIOSEARCH_GATEWAY_LOG_LEVEL": "WARNING",
            "AUDIOSEARCH_METADATA_LOG_LEVEL": "WARNING",
            "AUDIOSEARCH_SEARCH_LOG_LEVEL": "WARNING",
        }
        ports = {name: 0 for name in SERVICES}
        rows = []
        with Stack(scratch / "data", ports=ports, import_roots=(str(library),), extra_env=env) as stack:
            embedding = stack.services["embedding"].address
            with AudioSearchClient(stack.gateway_address, timeout_seconds=600) as client:
                for model in args.models.split(","):
                    _embed_only(embedding, model, contents[: args.concurrency], args.concurrency)  # warm up
                    cpu, client_cpu = _cpu_seconds(stack), _own_cpu_seconds()
                    before = _embed_only(embedding, model, contents, args.concurrency)
                    used = _cpu_seconds(stack)
                    # What the job's embeds cost the embedding service, and what its calls cost this client (the
                    # gateway's counterpart): the job's figures below compare with these.
                    print(
                        f"{model}: CPU ms per file during embed-only: embedding "
                        f"{1000 * (used['embedding'] - cpu['embedding']) / len(contents):.1f}, bench client "
                        f"{1000 * (_own_cpu_seconds() - client_cpu) / len(contents):.1f}",
                        flush=True,
                    )
                    rounds = []
                    for round_ in range(args.rounds):
                        cpu = _cpu_seconds(stack)
                        name = f"bench_{model}" + (f"_{round_}" if args.rounds > 1 else "")
                        job = _import_job(client, model, library, name, len(contents), KEEP_AUDIO[args.keep_audio])
                        spent = {name: used - cpu[name] for name, used in _cpu_seconds(stack).items()}
                        print(
                            f"{model}: CPU ms per file during the import job: "
                            + ", ".join(f"{name} {1000 * used / len(contents):.1f}" for name, used in spent.items()),
                            flush=True,
                        )
                        after = _embed_only(embedding, model, contents, args.concurrency)
                        ratio = job / statistics.mean([before, after])
                        rounds.append((before, after, job, ratio))
                        print(
                            f"{model}: embed-only {before:.2f} / {after:.2f} files/s (before/after), import job "
                            f"{job:.2f} files/s: {ratio:.2f}x (target >= {TARGET}x: "
                            f"{'met' if ratio >= TARGET else 'NOT met'}); load {_load()}",
                            flush=True,
                        )
                        before = after  # the next round's job is compared with the embed-only runs either side
                        if round_ + 1 < args.rounds:  # the next job writes its kept audio again, not finding it kept
                            client.drop_collection(name)
                    # Several rounds: the round of median ratio, so one run disturbed by other work does not decide.
                    _, before, after, job, ratio = sorted((round_[3], *round_) for round_ in rounds)[len(rounds) // 2]
                    rows.append((model, before, after, job, ratio, _load()))
        print()
        print(f"{'model':<12} {'embed-only files/s':>18} {'import files/s':>15} {'ratio':>6}  650k clips")
        for model, before, after, job, ratio, load in rows:
            per_core = job / cores
            print(
                f"{model:<12} {statistics.mean([before, after]):>18.2f} {job:>15.2f} {ratio:>6.2f}  "
                f"{SEED_CLIPS / job / 3600:.1f} h here, {SEED_CLIPS / per_core / 3600:.1f} h per embedding core "
                f"({per_core:.2f} files/s/core); load {load}"
            )


if __name__ == "__main__":
    main()
