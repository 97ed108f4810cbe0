"""`audiosearch demo`: the whole product on the embedded default, end to end, on a library it generates.

Generates clips of several sound classes in several formats and sample rates, starts the four services,
imports the library through the gateway, searches with fresh clips of each class and prints the top 5.
Exits non-zero unless every query's own class ranks first.
"""

import pathlib
import tempfile
import time

from audiosearch.client import AudioSearchClient
from audiosearch.tools import synth
from audiosearch.tools.launcher import Stack
from audiosearch.tools.output import Progress, print_table

FORMATS = (".wav", ".flac", ".ogg", ".mp3")
SAMPLE_RATES = (16000, 22050, 44100, 48000)
COLLECTION = "demo"


def generate_library(root: pathlib.Path, clips_per_class: int) -> tuple[pathlib.Path, dict[str, pathlib.Path]]:
    """library/<class>/<class>-NN.<fmt> and one held-out query per class (seeds the library never uses)."""
    library, queries = root / "library", root / "queries"
    for class_index, sound_class in enumerate(synth.CLASSES):
        for i in range(clips_per_class):
            seed = class_index * 1000 + i
            rate = SAMPLE_RATES[i % len(SAMPLE_RATES)]
            samples = synth.generate(sound_class, seed, duration_seconds=2.0 + (i % 3) * 0.5, sample_rate=rate)
            synth.write_clip(library / sound_class / f"{sound_class}-{i:02d}{FORMATS[i % len(FORMATS)]}", samples, rate)
    query_paths = {}
    for class_index, sound_class in enumerate(synth.CLASSES):
        samples = synth.generate(sound_class, 900_000 + class_index, duration_seconds=2.0, sample_rate=16000)
        query_paths[sound_class] = synth.write_clip(queries / f"query-{sound_class}.wav", samples, 16000)
    return library, query_paths


def run_demo(data_dir: str | None, clips_per_class: int) -> int:
    with tempfile.TemporaryDirectory(prefix="audiosearch-demo-") as scratch:
        root = pathlib.Path(data_dir or scratch).resolve()
        started = time.perf_counter()
        library, queries = generate_library(root, clips_per_class)
        total = len(synth.CLASSES) * clips_per_class
        print(
            f"generated {total} clips in {len(synth.CLASSES)} classes ({', '.join(synth.CLASSES)}) "
            f"as {'/'.join(f[1:] for f in FORMATS)} at {'/'.join(map(str, SAMPLE_RATES))} Hz under {library}"
        )
        with Stack(root / "services", ports={}, import_roots=(str(library),)) as stack:
            print(f"services up (gateway {stack.gateway_address}); logs in {root / 'services' / 'logs'}")
            with AudioSearchClient(stack.gateway_address) as client:
                return _ingest_and_search(client, library, queries, total, started)


def _ingest_and_search(client: AudioSearchClient, library, queries, total: int, started: float) -> int:
    client.create_collection(COLLECTION, model="logmel")
    progress = Progress(total, "import")
    outcomes: dict[str, int] = {}
    for item in client.import_directory(COLLECTION, str(library), label_from_parent=True):
        name = item.Outcome.Name(item.outcome).removeprefix("OUTCOME_").lower()
        outcomes[name] = outcomes.get(name, 0) + 1
        progress.update(item.done, pathlib.Path(item.path).name)
    progress.close()
    print("imported: " + ", ".join(f"{count} {name}" for name, count in sorted(outcomes.items())))
    correct = 0
    for sound_class, query in queries.items():
        response = client.search(COLLECTION, audio=query, top_k=5)
        top_class = response.hits[0].clip.labels.sound_class if response.hits else ""
        correct += top_class == sound_class
        print(
            f"\nquery {query.name} (class {sound_class}): top-1 is {top_class or 'nothing'}"
            f" {'OK' if top_class == sound_class else 'WRONG'}"
        )
        rows = [
            [rank, f"{hit.score:.4f}", hit.clip.labels.sound_class, hit.clip.source, hit.clip.audio.sample_rate]
            for rank, hit in enumerate(response.hits, start=1)
        ]
        print_table(["#", "score", "class", "source", "rate"], rows)
    print(
        f"\n{correct}/{len(queries)} queries ranked their own class first ({time.perf_counter() - started:.1f}s in all)"
    )
    return 0 if correct == len(queries) else 1
