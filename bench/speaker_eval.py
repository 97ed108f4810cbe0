"""Speaker retrieval on LibriSpeech halves: precision@1 of each embedding model.

Each utterance (one per speaker) is cut into two halves; every half queries all the other halves (leave-one-out,
cosine) and scores a hit when its nearest neighbour is the other half of its own utterance.

    .venv/bin/python bench/speaker_eval.py [/work/shared/data/librispeech-sample] [--models ge2e,logmel]
"""

import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from embedding_service import audio  # noqa: E402
from embedding_service.models.ge2e import Ge2eModel  # noqa: E402
from embedding_service.models.logmel import LogMelModel  # noqa: E402

DEFAULT_DATA = "/work/shared/data/librispeech-sample"
MODELS = {"ge2e": Ge2eModel, "logmel": LogMelModel}


def load_halves(folder: pathlib.Path, sample_rate: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Both halves of every clip in `folder` at `sample_rate`, and the utterance index of each half."""
    halves, owners = [], []
    for index, path in enumerate(sorted(folder.glob("*.flac"))):
        samples, info = audio.decode(path.read_bytes(), 3600.0)
        samples = audio.resample(samples, info.sample_rate, sample_rate)
        middle = samples.size // 2
        halves += [samples[:middle], samples[middle:]]
        owners += [index, index]
    return halves, np.array(owners)


def precision_at_1(vectors: np.ndarray, owners: np.ndarray) -> float:
    """Share of rows whose most similar other row belongs to the same utterance."""
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    return float(np.mean(owners[np.argmax(similarity, axis=1)] == owners))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=DEFAULT_DATA, help="folder of LibriSpeech .flac utterances")
    parser.add_argument("--models", default="ge2e,logmel", help="comma-separated model names")
    args = parser.parse_args()
    results = {}
    for name in args.models.split(","):
        model = MODELS[name]()
        if not model.available:
            sys.exit(f"{name}: {model.unavailable_reason}")
        halves, owners = load_halves(pathlib.Path(args.data), model.sample_rate)
        started = time.perf_counter()
        vectors = np.concatenate([model.embed_batch(halves[i : i + 32]) for i in range(0, len(halves), 32)])
        elapsed = time.perf_counter() - started
        seconds = sum(half.size for half in halves) / model.sample_rate
        results[name] = precision_at_1(vectors, owners)
        print(
            f"{name:8s} precision@1 {results[name]:.4f} over {len(halves)} halves of {len(halves) // 2} speakers "
            f"({seconds / elapsed:.0f}x real time)"
        )
    if len(results) > 1:
        best = max(results, key=results.get)
        print(f"best: {best}; " + ", ".join(f"{n} {p:.4f}" for n, p in results.items()))


if __name__ == "__main__":
    main()
