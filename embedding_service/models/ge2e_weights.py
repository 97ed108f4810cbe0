"""Reads the GE2E voice encoder's weights from a torch checkpoint with pickle, zipfile and numpy (no torch).

The checkpoint is resemblyzer's `pretrained.pt`: a legacy (pre-1.6) torch pickle; torch's newer zip layout is read
too. Only the names a weights file needs are resolved while unpickling, so a checkpoint cannot run code. Loading
is strict: a missing or unexpected key, or a wrong shape, is an error naming the file.
"""

import collections
import importlib.util
import pathlib
import pickle
import zipfile

import numpy as np

N_MELS = 40
HIDDEN = 256
LAYERS = 3
EMBEDDING = 256
INSTALL_HINT = "pip install --no-deps resemblyzer==0.1.4"


def expected_shapes() -> dict[str, tuple[int, ...]]:
    """The GE2E encoder's parameters: 3 LSTM layers of 256 (gates stacked i, f, g, o) and a 256 -> 256 linear."""
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in range(LAYERS):
        shapes[f"lstm.weight_ih_l{layer}"] = (4 * HIDDEN, N_MELS if layer == 0 else HIDDEN)
        shapes[f"lstm.weight_hh_l{layer}"] = (4 * HIDDEN, HIDDEN)
        shapes[f"lstm.bias_ih_l{layer}"] = (4 * HIDDEN,)
        shapes[f"lstm.bias_hh_l{layer}"] = (4 * HIDDEN,)
    shapes["linear.weight"] = (EMBEDDING, HIDDEN)
    shapes["linear.bias"] = (EMBEDDING,)
    return shapes


# The GE2E loss's learned scale and offset: trained with the encoder, unused at inference.
TRAINING_ONLY = frozenset({"similarity_weight", "similarity_bias"})

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class WeightsError(ValueError):
    """A weights file is missing, unreadable or does not hold the GE2E encoder."""


def default_weights_path() -> pathlib.Path | None:
    """resemblyzer's bundled `pretrained.pt`, found without importing resemblyzer (its __init__ imports torch)."""
    try:
        spec = importlib.util.find_spec("resemblyzer")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return pathlib.Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"


class _Storage:
    def __init__(self, dtype: type) -> None:
        self.dtype = np.dtype(dtype)


class _TensorRef:
    """What `torch._utils._rebuild_tensor_v2` would build, kept as a recipe until the storages are read."""

    def __init__(self, storage_key: str, dtype: np.dtype, offset: int, size: tuple, stride: tuple) -> None:
        self.storage_key, self.dtype, self.offset, self.size, self.stride = storage_key, dtype, offset, size, stride

    def materialise(self, data: np.ndarray) -> np.ndarray:
        itemsize = self.dtype.itemsize
        needed = self.offset + 1 + sum((n - 1) * s for n, s in zip(self.size, self.stride, strict=True))
        if any(n == 0 for n in self.size):
            return np.zeros(self.size, dtype=self.dtype)
        if needed > data.size:
            raise WeightsError(f"a tensor reaches past the end of its storage {self.storage_key}")
        view = np.lib.stride_tricks.as_strided(
            data[self.offset :], shape=self.size, strides=[s * itemsize for s in self.stride]
        )
        return np.array(view)


def _rebuild_tensor(storage_ref, offset, size, stride, *_ignored):
    key, dtype = storage_ref
    return _TensorRef(key, dtype, int(offset), tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    def __init__(self, file) -> None:
        super().__init__(file)
        self.storages: dict[str, np.dtype] = {}

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) in (("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor")):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _Storage(_STORAGE_DTYPES[name])
        raise pickle.UnpicklingError(f"refusing {module}.{name}: not part of a plain weights file")

    def persistent_load(self, saved_id):
        if not isinstance(saved_id, tuple) or not saved_id or saved_id[0] != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {saved_id!r}")
        storage_type, key = saved_id[1], str(saved_id[2])
        if not isinstance(storage_type, _Storage):
            raise pickle.UnpicklingError(f"unknown storage type {storage_type!r}")
        self.storages[key] = storage_type.dtype
        return key, storage_type.dtype


def _unpickle(file) -> tuple[object, dict[str, np.dtype]]:
    unpickler = _Unpickler(file)
    return unpickler.load(), unpickler.storages


def _model_state(checkpoint) -> dict:
    # resemblyzer's checkpoint holds {"step", "model_state", "optimizer_state"}; a bare state dict is accepted too.
    state = checkpoint.get("model_state", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise WeightsError("it holds no state dict (expected a dict, or a dict with 'model_state')")
    return state


def _read_legacy(path: pathlib.Path) -> dict[str, np.ndarray]:
    with path.open("rb") as file:
        if pickle.load(file) != _LEGACY_MAGIC:
            raise WeightsError("it is not a torch checkpoint (wrong magic number)")
        pickle.load(file)  # protocol version
        sys_info = pickle.load(file)
        if isinstance(sys_info, dict) and not sys_info.get("little_endian", True):
            raise WeightsError("it was written on a big-endian machine")
        checkpoint, dtypes = _unpickle(file)
        state = _model_state(checkpoint)
        keys = pickle.load(file)
        wanted = {ref.storage_key for ref in state.values() if isinstance(ref, _TensorRef)}
        data = {}
        # Storages follow in `keys` order, each as an int64 element count then the raw little-endian elements;
        # those of the optimizer state are skipped.
        for key in map(str, keys):
            header = file.read(8)
            if len(header) != 8 or key not in dtypes:
                raise WeightsError(f"it ends before storage {key}" if len(header) != 8 else f"unknown storage {key}")
            size = int.from_bytes(header, "little", signed=True) * dtypes[key].itemsize
            if key not in wanted:
                file.seek(size, 1)
                continue
            raw = file.read(size)
            if len(raw) != size:
                raise WeightsError(f"it ends inside storage {key}")
            data[key] = np.frombuffer(raw, dtype=dtypes[key].newbyteorder("<"))
    missing = wanted - set(data)
    if missing:
        raise WeightsError(f"storages {', '.join(sorted(missing))} are absent")
    return _materialise(state, data)


def _read_zip(path: pathlib.Path) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickles = [name for name in names if name.endswith("/data.pkl") or name == "data.pkl"]
        if not pickles:
            raise WeightsError("the archive holds no data.pkl")
        prefix = pickles[0][: -len("data.pkl")]
        with archive.open(pickles[0]) as file:
            checkpoint, dtypes = _unpickle(file)
        state = _model_state(checkpoint)
        data = {}
        for ref in state.values():
            if isinstance(ref, _TensorRef) and ref.storage_key not in data:
                member = f"{prefix}data/{ref.storage_key}"
                if member not in names:
                    raise WeightsError(f"the archive lacks {member}")
                data[ref.storage_key] = np.frombuffer(archive.read(member), dtype=dtypes[ref.storage_key])
    return _materialise(state, data)


def _materialise(state: dict, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    arrays = {}
    for name, ref in state.items():
        if not isinstance(ref, _TensorRef):
            raise WeightsError(f"{name} is not a tensor")
        arrays[str(name)] = ref.materialise(data[ref.storage_key])
    return arrays


def read_state_dict(path: str | pathlib.Path) -> dict[str, np.ndarray]:
    """Every tensor of the checkpoint's model state, as numpy arrays; WeightsError naming the file if unreadable."""
    path = pathlib.Path(path)
    try:
        return _read_zip(path) if zipfile.is_zipfile(path) else _read_legacy(path)
    except WeightsError as error:
        raise WeightsError(f"cannot read GE2E weights from {path}: {error}") from None
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise WeightsError(f"cannot read GE2E weights from {path}: {type(error).__name__}: {error}") from None


def load_weights(path: str | pathlib.Path) -> dict[str, np.ndarray]:
    """The encoder's parameters as float32 arrays, checked strictly against the GE2E architecture."""
    state = read_state_dict(path)
    expected = expected_shapes()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected) - TRAINING_ONLY)
    problems = []
    if missing:
        problems.append(f"missing keys {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected keys {', '.join(unexpected)}")
    for name, shape in expected.items():
        if name in state and state[name].shape != shape:
            problems.append(f"{name} has shape {state[name].shape}, expected {shape}")
    if problems:
        raise WeightsError(f"{path} does not hold the GE2E encoder: {'; '.join(problems)}")
    weights = {name: np.ascontiguousarray(state[name], dtype=np.float32) for name in expected}
    bad = [name for name, array in weights.items() if not np.isfinite(array).all()]
    if bad:
        raise WeightsError(f"{path} has non-finite values in {', '.join(bad)}")
    return weights
