"""Random-initialised PaddleSpeech checkpoints in the published archives' exact layouts, for the tests.

Shapes come from PaddleSpeech's own classes (built lazily, so nothing is initialised twice); values are drawn with
numpy: He-scaled weights, zero biases, unit batch-norm, so activations neither explode nor vanish.
"""

import dataclasses
import gzip
import hashlib
import pathlib
import pickle
import tarfile

import numpy as np
import yaml

from embedding_service.models import paddlespeech, weights

ECAPA_CONFIG = {
    "num_speakers": 7205,
    "sr": 16000,
    "n_mels": 80,
    "window_size": 400,
    "hop_size": 160,
    "model": {
        "input_size": 80,
        "channels": [1024, 1024, 1024, 1024, 3072],
        "kernel_sizes": [5, 3, 3, 3, 1],
        "dilations": [1, 2, 3, 4, 1],
        "attention_channels": 128,
        "lin_neurons": 192,
    },
}
PANNS_CONFIG = {
    "feature": {
        "sample_rate": 32000,
        "n_fft": 1024,
        "hop_length": 320,
        "window": "hann",
        "window_length": 1024,
        "f_min": 50.0,
        "f_max": 14000.0,
        "n_mels": 64,
    }
}


def _shapes(name: str) -> dict[str, tuple[int, ...]]:
    paddle = paddlespeech._paddle()
    with paddle.LazyGuard():
        if name == "ecapa_tdnn":
            layer = paddlespeech.paddlespeech_module("vector.models.ecapa_tdnn").EcapaTdnn(**ECAPA_CONFIG["model"])
        else:
            panns = paddlespeech.paddlespeech_module("cls.models.panns.panns")
            layer = getattr(panns, name.replace("panns_cnn", "CNN"))(extract_embedding=True)
    return {key: tuple(value.shape) for key, value in layer.state_dict().items()}


def random_state(name: str, seed: int = 0) -> dict[str, np.ndarray]:
    """A state dict as the published checkpoint holds it (ECAPA: the SpeakerIdetification wrapper's keys)."""
    rng = np.random.default_rng(seed)
    state = {}
    for key, shape in _shapes(name).items():
        if key.endswith("_variance"):
            value = np.ones(shape, np.float32)
        elif key.endswith("_mean") or key.endswith("bias") or len(shape) == 1:
            value = np.ones(shape, np.float32) if key.endswith("weight") else np.zeros(shape, np.float32)
        else:
            fan_in = int(np.prod(shape[1:])) if len(shape) > 2 else shape[0]
            value = rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
        state[key] = value
    if name == "ecapa_tdnn":
        state = {f"backbone.{key}": value for key, value in state.items()}
        state["weight"] = rng.standard_normal((192, ECAPA_CONFIG["num_speakers"]), dtype=np.float32) * 0.01
    return state


def save_state(state: dict[str, np.ndarray], path: pathlib.Path, with_paddle: bool = False) -> None:
    """What paddle.save(layer.state_dict(), path) writes: a protocol-4 pickle of numpy arrays plus paddle's name
    table. `with_paddle` has paddle itself write it (slower: it copies every array through a tensor)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if with_paddle:
        paddle = paddlespeech._paddle()
        paddle.save({key: paddle.to_tensor(value) for key, value in state.items()}, str(path))
        return
    table = {key: f"param_{index}" for index, key in enumerate(state)}
    with open(path, "wb") as sink:
        pickle.dump({**state, weights.PADDLE_NAME_TABLE: table}, sink, protocol=4)


@dataclasses.dataclass(frozen=True)
class TestArchive:
    name: str
    path: pathlib.Path  # the .tar.gz
    folder: pathlib.Path  # the same files unpacked
    md5: str
    spec: weights.ArchiveSpec


def write_layout(name: str, folder: pathlib.Path, state, with_paddle: bool = False) -> weights.ArchiveSpec:
    spec = weights.ARCHIVES[name]
    config = ECAPA_CONFIG if name == "ecapa_tdnn" else PANNS_CONFIG
    (folder / spec.config_file).parent.mkdir(parents=True, exist_ok=True)
    (folder / spec.config_file).write_text(yaml.safe_dump(config))
    save_state(state, folder / spec.checkpoint_file, with_paddle)
    for extra in spec.extra_files:
        (folder / extra).write_text("\n".join(f"label {index}" for index in range(527)) + "\n")
    return spec


def make_archive(
    name: str, into: pathlib.Path, seed: int = 0, state=None, with_paddle: bool = False, compresslevel: int = 0
) -> TestArchive:
    """`into`/<archive name> (.tar.gz wrapping one folder, as published) and `into`/unpacked/<folder>.

    compresslevel 0 writes stored gzip blocks: random floats do not compress, and zlib would spend ~15 s on CNN14.
    """
    spec = weights.ARCHIVES[name]
    stem = spec.archive_name.removesuffix(".tar.gz")
    folder = into / "unpacked" / stem
    write_layout(name, folder, random_state(name, seed) if state is None else state, with_paddle)
    archive = into / spec.archive_name
    with open(archive, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=compresslevel, mtime=0) as zipped:
            with tarfile.open(fileobj=zipped, mode="w") as bundle:
                bundle.add(folder, arcname=stem)
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    return TestArchive(name, archive, folder, md5, dataclasses.replace(spec, md5=md5))


def specs_for(*archives: TestArchive) -> dict[str, weights.ArchiveSpec]:
    """The published registry with these archives' md5s in place of the real ones."""
    table = dict(weights.ARCHIVES)
    table.update({archive.name: archive.spec for archive in archives})
    return table


def corrupt(path: pathlib.Path, into: pathlib.Path) -> pathlib.Path:
    """A copy of `path` with its second half cut off."""
    data = path.read_bytes()
    out = into / f"cut-{path.name}"
    out.write_bytes(data[: len(data) // 2])
    return out
