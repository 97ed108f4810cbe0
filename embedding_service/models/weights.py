"""PaddleSpeech's published weight archives: where each comes from, how it is installed, how it is read safely.

A model's weights live in `<model_dir>/<model>/`: the archive's files (config, checkpoint, labels) plus
`manifest.json`, written at install time with the md5 of every file, so a file changed or cut short later is
refused at load rather than served. Checkpoints are pickles; they are read with an unpickler that builds numpy
arrays and nothing else, so a weights file cannot run code.
"""

import dataclasses
import hashlib
import io
import json
import os
import pathlib
import pickle
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Mapping

import numpy as np

from audiosearch.sdk import errors

MANIFEST = "manifest.json"
# Paddle writes this key into every saved state dict (structured name -> parameter name); it holds no weights.
PADDLE_NAME_TABLE = "StructuredToParameterName@@"
_CHUNK = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class ArchiveSpec:
    """One published archive, as in paddlespeech/resource/pretrained_models.py (1.5.0)."""

    model: str
    tag: str
    url: str
    md5: str
    config_file: str
    checkpoint_file: str
    extra_files: tuple[str, ...] = ()

    @property
    def archive_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def files(self) -> tuple[str, ...]:
        return (self.config_file, self.checkpoint_file, *self.extra_files)


def _panns(size: int, md5: str) -> ArchiveSpec:
    return ArchiveSpec(
        model=f"panns_cnn{size}",
        tag=f"panns_cnn{size}-32k",
        url=f"https://paddlespeech.cdn.bcebos.com/cls/panns_cnn{size}.tar.gz",
        md5=md5,
        config_file="panns.yaml",
        checkpoint_file=f"cnn{size}.pdparams",
        extra_files=("audioset_labels.txt",),
    )


ARCHIVES: dict[str, ArchiveSpec] = {
    spec.model: spec
    for spec in (
        ArchiveSpec(
            model="ecapa_tdnn",
            tag="ecapatdnn_voxceleb12-16k",
            url="https://paddlespeech.cdn.bcebos.com/vector/voxceleb/sv0_ecapa_tdnn_voxceleb12_ckpt_0_2_0.tar.gz",
            md5="cc33023c54ab346cd318408f43fcaf95",
            config_file="conf/model.yaml",
            checkpoint_file="model/model.pdparams",
        ),
        _panns(14, "e3b9b5614a1595001161d0ab95edee97"),
        _panns(10, "cb8427b22176cc2116367d14847f5413"),
        _panns(6, "4cf09194a95df024fd12f84712cf0f9c"),
    )
}


class WeightsError(errors.FailedPrecondition):
    """Weights are missing, damaged or do not fit the model; the message names the file and the fix."""

    def __init__(self, message: str, reason: str = "WEIGHTS_INVALID", **metadata: str) -> None:
        super().__init__(message, reason, **metadata)


@dataclasses.dataclass(frozen=True)
class InstalledWeights:
    model: str
    installed: bool
    folder: str
    source: str = ""
    archive_md5: str = ""
    installed_at: str = ""
    size_bytes: int = 0


def fix_hint(name: str) -> str:
    return (
        f"run `audiosearch models fetch {name}` (downloads the published archive), or offline "
        f"`audiosearch models import {name} PATH` with the archive or its unpacked folder, then restart the "
        "embedding service"
    )


def md5_of(path: pathlib.Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as source:
        for block in iter(lambda: source.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class _ArraysOnly(pickle.Unpickler):
    """Builds dicts, lists, strings and numpy arrays; any other class in the pickle is refused, so no code runs."""

    _ALLOWED = {
        ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"): ("numpy._core.multiarray", "scalar"),
        ("numpy.core.multiarray", "scalar"): ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"): ("numpy", "ndarray"),
        ("numpy", "dtype"): ("numpy", "dtype"),
        ("collections", "OrderedDict"): ("collections", "OrderedDict"),
        # Older paddle pickled a tensor as tuple((name, ndarray)).
        ("builtins", "tuple"): ("builtins", "tuple"),
    }

    def find_class(self, module: str, name: str):
        target = self._ALLOWED.get((module, name))
        if target is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a weights file")
        return super().find_class(*target)


def read_state_dict(path: pathlib.Path, fix: str) -> dict[str, np.ndarray]:
    """The arrays of a paddle .pdparams file, read without running any code the file might carry."""
    try:
        with open(path, "rb") as source:
            raw = _ArraysOnly(io.BufferedReader(source, _CHUNK)).load()
    except FileNotFoundError:
        raise WeightsError(f"checkpoint {path} is missing; {fix}", "WEIGHTS_MISSING") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError) as error:
        raise WeightsError(f"checkpoint {path} is not a readable paddle state dict ({error}); {fix}") from None
    if not isinstance(raw, dict):
        raise WeightsError(f"checkpoint {path} holds a {type(raw).__name__}, not a state dict; {fix}")
    state = {}
    for key, value in raw.items():
        if key == PADDLE_NAME_TABLE:
            continue
        if isinstance(value, tuple) and len(value) == 2:
            value = value[1]
        if not isinstance(value, np.ndarray):
            raise WeightsError(f"checkpoint {path}: {key!r} holds a {type(value).__name__}, not an array; {fix}")
        state[key] = value
    return state


def load_strict(layer, state: Mapping[str, np.ndarray], path: pathlib.Path, fix: str, ignored=()) -> None:
    """Set every parameter and buffer of the paddle `layer` from `state`, or raise naming each key that is
    missing, unexpected (except those starting with an `ignored` prefix) or of the wrong shape."""
    expected = {key: tuple(value.shape) for key, value in layer.state_dict().items()}
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(key for key in set(state) - set(expected) if not key.startswith(tuple(ignored)))
    wrong = sorted(
        f"{key} {tuple(state[key].shape)} (expected {expected[key]})"
        for key in set(expected) & set(state)
        if tuple(state[key].shape) != expected[key]
    )
    problems = []
    for label, keys in (("missing keys", missing), ("unexpected keys", unexpected), ("wrong shapes", wrong)):
        if keys:
            shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
            problems.append(f"{label}: {shown}")
    if problems:
        raise WeightsError(f"checkpoint {path} does not fit the model ({'; '.join(problems)}); {fix}")
    layer.set_state_dict({key: np.ascontiguousarray(state[key], dtype=np.float32) for key in expected})


class WeightStore:
    """Installed weight archives under `root`, one folder per model."""

    def __init__(self, root: str | os.PathLike, archives: Mapping[str, ArchiveSpec] = ARCHIVES) -> None:
        self.root = pathlib.Path(root).expanduser()
        self.archives = dict(archives)

    def spec(self, name: str) -> ArchiveSpec:
        spec = self.archives.get(name)
        if spec is None:
            known = ", ".join(sorted(self.archives))
            raise errors.NotFound(f"no weights archive for {name!r}; known: {known}", "MODEL_NOT_FOUND", model=name)
        return spec

    def folder(self, name: str) -> pathlib.Path:
        return self.root / self.spec(name).model

    def manifest(self, name: str) -> dict | None:
        try:
            return json.loads((self.folder(name) / MANIFEST).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def list_installed(self) -> list[InstalledWeights]:
        """Every known archive, installed or not."""
        rows = []
        for name in self.archives:
            manifest = self.manifest(name)
            if manifest is None:
                rows.append(InstalledWeights(name, False, str(self.folder(name))))
                continue
            rows.append(
                InstalledWeights(
                    name,
                    True,
                    str(self.folder(name)),
                    manifest.get("source", ""),
                    manifest.get("archive_md5") or "",
                    manifest.get("installed_at", ""),
                    sum(size for size in manifest.get("sizes", {}).values()),
                )
            )
        return rows

    def require(self, name: str) -> pathlib.Path:
        """The folder of `name`'s installed weights, each file checked against its install-time md5."""
        spec, folder, fix = self.spec(name), self.folder(name), fix_hint(name)
        manifest = self.manifest(name)
        if manifest is None:
            raise WeightsError(f"weights for {name} are not installed in {folder}; {fix}", "WEIGHTS_MISSING")
        for relative in spec.files:
            path = folder / relative
            if not path.is_file():
                raise WeightsError(f"{path} is missing; {fix}", "WEIGHTS_MISSING")
            actual, recorded = md5_of(path), manifest.get("files", {}).get(relative)
            if actual != recorded:
                raise WeightsError(
                    f"{path} has md5 {actual}, but it was installed with md5 {recorded}: the file changed or was "
                    f"cut short since; {fix}",
                    "WEIGHTS_CHANGED",
                )
        return folder

    def import_(self, name: str, path: str | os.PathLike) -> pathlib.Path:
        """Install `name` from a published archive (.tar.gz, md5 checked) or from its unpacked folder."""
        spec, source = self.spec(name), pathlib.Path(path).expanduser().resolve()
        if source.is_dir():
            return self._install_folder(spec, source, str(source), archive_md5=None)
        if not source.is_file():
            raise WeightsError(f"{source} does not exist; give the {spec.archive_name} archive or its folder")
        actual = md5_of(source)
        if actual != spec.md5:
            raise WeightsError(
                f"{source} has md5 {actual}, but the published {spec.archive_name} has md5 {spec.md5}: the file "
                f"is damaged, incomplete or another archive; download it again (`audiosearch models fetch {name}` "
                f"or {spec.url})",
                "WEIGHTS_MD5_MISMATCH",
            )
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.root, prefix=f".unpack-{name}-") as unpacked:
            _extract(source, pathlib.Path(unpacked), fix_hint(name))
            return self._install_folder(spec, pathlib.Path(unpacked), str(source), actual, move=True)

    def fetch(self, name: str, progress: Callable[[int, int], None] | None = None, timeout: float = 60.0):
        """Download `name`'s archive into the cache (resuming a partial download), check its md5, install it."""
        spec = self.spec(name)
        downloads = self.root / ".downloads"
        downloads.mkdir(parents=True, exist_ok=True)
        target = downloads / spec.archive_name
        if not (target.is_file() and md5_of(target) == spec.md5):
            _download(spec.url, target, progress, timeout)
        try:
            folder = self.import_(name, target)
        except WeightsError:
            # A finished download with the wrong md5 must not be resumed next time: start over.
            target.unlink(missing_ok=True)
            raise
        target.unlink(missing_ok=True)
        return folder

    def _install_folder(
        self, spec: ArchiveSpec, source: pathlib.Path, origin: str, archive_md5: str | None, move: bool = False
    ) -> pathlib.Path:
        """Copy (or move, from our own unpack folder) the layout's files into place with a manifest, atomically."""
        source = _content_root(source, spec)
        for relative in spec.files:
            if not (source / relative).is_file():
                raise WeightsError(
                    f"{source} lacks {relative}; the {spec.archive_name} layout is "
                    f"{', '.join(spec.files)}: give the published archive or its unpacked folder",
                    "WEIGHTS_LAYOUT",
                )
        self.root.mkdir(parents=True, exist_ok=True)
        staging = pathlib.Path(tempfile.mkdtemp(dir=self.root, prefix=f".install-{spec.model}-"))
        try:
            for relative in spec.files:
                (staging / relative).parent.mkdir(parents=True, exist_ok=True)
                (shutil.move if move else shutil.copyfile)(source / relative, staging / relative)
            manifest = {
                "model": spec.model,
                "tag": spec.tag,
                "source": origin,
                "archive_md5": archive_md5,
                "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "files": {relative: md5_of(staging / relative) for relative in spec.files},
                "sizes": {relative: (staging / relative).stat().st_size for relative in spec.files},
            }
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
            final = self.root / spec.model
            if final.exists():
                retired = final.with_name(f".old-{spec.model}-{os.getpid()}-{time.monotonic_ns()}")
                final.rename(retired)
                shutil.rmtree(retired, ignore_errors=True)
            staging.rename(final)
            return final
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _content_root(folder: pathlib.Path, spec: ArchiveSpec) -> pathlib.Path:
    """The folder holding the layout: `folder` itself, or its single subfolder (archives wrap their files in one)."""
    if (folder / spec.config_file).exists():
        return folder
    children = [child for child in folder.iterdir() if not child.name.startswith(".")]
    if len(children) == 1 and children[0].is_dir() and (children[0] / spec.config_file).exists():
        return children[0]
    return folder


def _extract(archive: pathlib.Path, into: pathlib.Path, fix: str) -> None:
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as bundle:
                for member in bundle.namelist():
                    target = (into / member).resolve()
                    if not target.is_relative_to(into.resolve()):
                        raise WeightsError(f"{archive} holds a path outside the archive ({member}); {fix}")
                bundle.extractall(into)
            return
        with tarfile.open(archive, "r:*") as bundle:
            # The "data" filter refuses absolute paths, links out of the folder and device files.
            bundle.extractall(into, filter="data")
    except WeightsError:
        raise
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, zlib.error) as error:
        raise WeightsError(f"{archive} is not a readable archive ({error}); {fix}", "WEIGHTS_ARCHIVE") from None


def _download(url: str, target: pathlib.Path, progress, timeout: float) -> None:
    partial = target.with_name(target.name + ".part")
    have = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if have and response.status != 206:
                have = 0  # the server ignored the range: start again
            total = have + int(response.headers.get("Content-Length") or 0)
            with open(partial, "ab" if have else "wb") as sink:
                done = have
                for block in iter(lambda: response.read(_CHUNK), b""):
                    sink.write(block)
                    done += len(block)
                    if progress:
                        progress(done, total)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:
            partial.rename(target)  # the range starts at the end: the download was already complete
            return
        raise errors.Unavailable(
            f"downloading {url} failed: HTTP {error.code}; retry later", "DOWNLOAD_FAILED"
        ) from None
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        raise errors.Unavailable(
            f"downloading {url} failed ({error}); rerun to resume, or when offline download it elsewhere and use "
            "`audiosearch models import`",
            "DOWNLOAD_FAILED",
        ) from None
    partial.rename(target)
