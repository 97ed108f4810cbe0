"""What keeping audio costs (issue #16), in one run through the four services (`audiosearch up`'s embedded stores, kept
audio in a local folder): files/s of a folder import job into a collection that keeps audio beside one that does not,
and GetClipAudio's latency for a whole clip and for a 1-s range.

    .venv/bin/python -m bench.kept_audio                 # 2 x 300 5-s clips, logmel
    .venv/bin/python -m bench.kept_audio --files 100     # quicker

Two libraries, each imported without and then with kept audio, so drift in the machine's load is shared.
Target: the import with kept audio >= 0.9x the one without.
"""

import argparse
import os
import pathlib
import statistics
import tempfile
import time

from audiosearch.client import AudioSearchClient
from audiosearch.tools import synth
from audiosearch.tools.launcher import SERVICES, Stack
from bench.ingest import _import_job

CLIP_SECONDS = 5.0
TARGET = 0.9
READS = 50


def _library(folder: pathlib.Path, count: int, first_seed: int) -> None:
    folder.mkdir(parents=True)
    for seed in range(first_seed, first_seed + count):
        sound_class = synth.CLASSES[seed % len(synth.CLASSES)]
        content = synth.encode(synth.generate(sound_class, seed, CLIP_SECONDS, 16000), 16000, ".wav")
        (folder / f"clip_{seed:06}.wav").write_bytes(content)


def _read_ms(client: AudioSearchClient, name: str, **time_range) -> float:
    """Median milliseconds of GetClipAudio over the collection's first READS clips, read to the last byte."""
    clip_ids = [clip.id for _, clip in zip(range(READS), client.list_clips(name), strict=False)]
    times = []
    for clip_id in clip_ids:
        started = time.perf_counter()
        _, chunks = client.get_clip_audio(name, clip_id, **time_range)
        b"".join(chunks)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300, help="5-s clips per library (two libraries)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-kept-audio-") as scratch_name:
        scratch = pathlib.Path(scratch_name)
        libraries = [scratch / "imports" / name for name in ("a", "b")]
        for index, library in enumerate(libraries):
            _library(library, args.files, 60_000 + index * args.files)
        print(
            f"{os.cpu_count()} cores; 2 x {args.files} {CLIP_SECONDS:g}-s clips; load at start: {_load()}", flush=True
        )
        quiet = {f"AUDIOSEARCH_{name}_LOG_LEVEL": "WARNING" for name in ("EMBEDDING", "GATEWAY", "METADATA", "SEARCH")}
        imports = (str(scratch / "imports"),)
        ports = {name: 0 for name in SERVICES}
        with Stack(scratch / "data", ports=ports, import_roots=imports, extra_env=quiet) as stack:
            with AudioSearchClient(stack.gateway_address) as client:
                rates: dict[bool, list[float]] = {False: [], True: []}
                for index, library in enumerate(libraries):
                    for keep in (False, True):
                        name = f"{'kept' if keep else 'plain'}_{index}"
                        rates[keep].append(_import_job(client, "logmel", library, name, args.files, keep))
                        print(f"import {name}: {rates[keep][-1]:.1f} files/s (load {_load()})", flush=True)
                whole, ranged = _read_ms(client, "kept_0"), _read_ms(client, "kept_0", start_seconds=1, end_seconds=2)
        plain, kept = statistics.mean(rates[False]), statistics.mean(rates[True])
        ratio = kept / plain
        print(f"import job without kept audio: {plain:.1f} files/s; with kept audio: {kept:.1f} files/s")
        print(f"ratio kept/plain: {ratio:.2f} (target >= {TARGET}): {'met' if ratio >= TARGET else 'NOT met'}")
        print(f"GetClipAudio p50: whole 5-s WAV {whole:.1f} ms; 1-s range (decoded, cut, WAV) {ranged:.1f} ms")
        print(f"load at end: {_load()}")


if __name__ == "__main__":
    main()
