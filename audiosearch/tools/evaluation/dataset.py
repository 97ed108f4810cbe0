"""A labelled evaluation set read from a folder: label from the parent folder, a filename pattern, or a CSV."""

import csv
import dataclasses
import io
import pathlib
import re

import numpy as np
import soundfile

from audiosearch.runtime.paths import audio_files


@dataclasses.dataclass
class Item:
    """One clip of the set: its name, label, samples (float32 mono at rate) and the bytes to upload."""

    name: str
    label: str
    samples: np.ndarray
    rate: int
    content: bytes


def labels_from_parent(files: list[pathlib.Path], root: pathlib.Path) -> dict[pathlib.Path, str]:
    return {file: file.parent.name for file in files}


def labels_from_pattern(files: list[pathlib.Path], pattern: str) -> dict[pathlib.Path, str]:
    """Label = the `label` group of `pattern` searched in each file name; files it does not match are left out."""
    regex = re.compile(pattern)
    if "label" not in regex.groupindex:
        raise ValueError(f"the label pattern {pattern!r} needs a named group (?P<label>...)")
    labels = {}
    for file in files:
        if match := regex.search(file.name):
            labels[file] = match.group("label")
    return labels


def labels_from_csv(csv_path: pathlib.Path, root: pathlib.Path) -> dict[pathlib.Path, str]:
    """Rows of path,label (a first row `path,label` is a header); paths relative to the CSV's folder or root."""
    labels = {}
    with open(csv_path, newline="") as handle:
        for row in csv.reader(handle):
            if len(row) < 2 or not row[0].strip() or row[0].strip().lower() == "path":
                continue
            path = pathlib.Path(row[0].strip())
            if not path.is_absolute():
                path = next((base / path for base in (csv_path.parent, root) if (base / path).exists()), root / path)
            labels[path] = row[1].strip()
    return labels


def load(
    root: str | pathlib.Path,
    label_pattern: str | None = None,
    labels_csv: str | pathlib.Path | None = None,
    split_halves: bool = False,
    limit: int | None = None,
    seed: int = 0,
) -> list[Item]:
    """The labelled clips under `root` (sorted by path). Labels come from the CSV if given, else the pattern if
    given, else the parent folder's name. With split_halves each file becomes two clips (its first and second half)
    sharing its label, so each half's relevant item is the other half. With limit, a random sample of that many
    files (the same for the same seed)."""
    root = pathlib.Path(root).resolve()
    if labels_csv:
        labels = labels_from_csv(pathlib.Path(labels_csv).resolve(), root)
    else:
        files = audio_files(root)
        labels = labels_from_pattern(files, label_pattern) if label_pattern else labels_from_parent(files, root)
    if not labels:
        raise ValueError(f"no labelled audio files found under {root}")
    items = []
    for path in sample(sorted(labels), limit, seed):
        name = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        try:
            samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
        except soundfile.LibsndfileError as error:
            problem = error.error_string.rstrip(".")
            raise ValueError(f"cannot read {name} ({problem}); fix or remove it, or leave it out of the CSV") from None
        samples = samples.mean(axis=1)
        if split_halves:
            half = samples.size // 2
            for suffix, part in (("#1", samples[:half]), ("#2", samples[half:])):
                items.append(Item(name + suffix, labels[path], part, rate, to_wav(part, rate)))
        else:
            items.append(Item(name, labels[path], samples, rate, path.read_bytes()))
    return items


def sample(paths: list[pathlib.Path], limit: int | None, seed: int) -> list[pathlib.Path]:
    """`limit` of the paths drawn at random (seeded), in their order; the first N sorted would be whole folders."""
    if limit is None or limit >= len(paths):
        return paths
    if limit < 1:
        raise ValueError(f"the limit must be at least 1 file, got {limit}")
    chosen = np.random.default_rng(seed).choice(len(paths), size=limit, replace=False)
    return [paths[index] for index in sorted(chosen)]


def to_wav(samples: np.ndarray, rate: int) -> bytes:
    """Lossless float wav bytes (float, so louder-than-full-scale perturbations are not wrapped or clipped)."""
    buffer = io.BytesIO()
    soundfile.write(buffer, np.asarray(samples, dtype=np.float32), rate, format="WAV", subtype="FLOAT")
    return buffer.getvalue()


def cut_words(items: list[Item], min_seconds: float = 0.3, max_seconds: float = 1.0) -> list[Item]:
    """Each clip cut at its pauses into word-like sounds of min_seconds to max_seconds (others are left out), each
    its own label: a library of short sounds, for near-duplicate retrieval (sound-effect libraries are full of them).

    Sound is a 10-ms frame within 30 dB of the clip's 95th-percentile frame; a pause is 60 ms of frames below."""
    words = []
    for item in items:
        frame = item.rate // 100
        count = item.samples.size // frame
        if count == 0:
            continue
        power = np.mean(np.square(item.samples[: count * frame].reshape(count, frame), dtype=np.float64), axis=1)
        level = 10 * np.log10(power + 1e-12)
        sound = np.append(level > np.percentile(level, 95) - 30, False)
        start, quiet, last = None, 0, 0
        for index, loud in enumerate(sound):
            if loud:
                start = index if start is None else start
                quiet, last = 0, index
                continue
            quiet += 1
            if start is not None and (quiet >= 6 or index == count):
                if min_seconds <= (last + 1 - start) / 100 <= max_seconds:
                    samples = item.samples[start * frame : (last + 1) * frame]
                    name = f"{item.name}@{start / 100:.2f}"
                    words.append(Item(name, name, samples, item.rate, to_wav(samples, item.rate)))
                start = None
    return words
