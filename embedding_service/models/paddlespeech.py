"""PaddleSpeech's pretrained networks as embedding models: `ecapa_tdnn` (speakers) and `panns_cnn14/10/6` (sounds).

The networks are PaddleSpeech's own classes (EcapaTdnn, CNN14/CNN10/CNN6) and the features are what its executors
compute (paddlespeech/cli/vector/infer.py, paddlespeech/cli/cls/infer.py, 1.5.0); the executors themselves are not
used. Weights come from weights.WeightStore, loaded strictly.
"""

import importlib
import importlib.util
import logging
import os
import sys
import threading
import types
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import yaml

from embedding_service.models import blas, weights
from embedding_service.models.base import EmbeddingModel, l2_normalise

log = logging.getLogger(__name__)

INSTALL_HINT = "install the embedding extra: pip install 'audiosearch[embedding]' (paddlepaddle and paddlespeech)"

# The front ends, fixed: the published weights were trained with these, so an archive that says otherwise is refused.
ECAPA_FEATURES = {"sr": 16000, "n_mels": 80, "window_size": 400, "hop_size": 160}
PANNS_FEATURES: dict[str, Any] = {
    "sample_rate": 32000,
    "n_fft": 1024,
    "hop_length": 320,
    "window": "hann",
    "window_length": 1024,
    "f_min": 50.0,
    "f_max": 14000.0,
    "n_mels": 64,
}

_import_lock = threading.Lock()


def _paddle():
    if "paddle" in sys.modules:
        return sys.modules["paddle"]
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with warnings.catch_warnings():
        # paddle warns at import about a missing ccache, which only matters when compiling C++ extensions.
        warnings.simplefilter("ignore")
        import paddle
    # paddle's import adds its own handler to the root logger when it has none; the service owns logging.
    root.handlers[:], root.level = handlers, level
    return paddle


def paddlespeech_module(name: str) -> types.ModuleType:
    """Import paddlespeech.`name` without running paddlespeech/audio/__init__.py.

    That file imports the whole audio toolkit (datasets, stream loaders, transforms: resampy, numba, pathos, tqdm,
    ...), none of which the model classes or the feature code use; the package is registered empty so only the
    submodules actually needed are imported.
    """
    with _import_lock:
        if "paddlespeech.audio" not in sys.modules:
            _paddle()
            spec = importlib.util.find_spec("paddlespeech")
            if spec is None or not spec.submodule_search_locations:
                raise ImportError(f"paddlespeech is not installed; {INSTALL_HINT}")
            package = types.ModuleType("paddlespeech.audio")
            package.__path__ = [os.path.join(spec.submodule_search_locations[0], "audio")]
            package.__package__ = "paddlespeech.audio"
            sys.modules["paddlespeech.audio"] = package
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(f"paddlespeech.{name}")


def set_threads(count: int) -> None:
    """Threads paddle's CPU kernels use (0: one per core)."""
    _paddle().base.core.set_num_threads(count or os.cpu_count() or 1)


def _read_yaml(path, fix: str) -> dict:
    try:
        config = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise weights.WeightsError(f"config {path} is unreadable ({error}); {fix}") from None
    if not isinstance(config, dict):
        raise weights.WeightsError(f"config {path} is not a mapping; {fix}")
    return config


def _check_features(config: dict, expected: dict, aliases: dict, path, fix: str) -> None:
    for key, want in expected.items():
        found = config.get(key, config.get(aliases.get(key, key), want))
        same = found == want if isinstance(want, str) else np.isclose(float(found), float(want))
        if not same:
            raise weights.WeightsError(
                f"config {path} sets {key}={found!r}, but this service computes features with {key}={want!r} "
                f"(the published archive's value); {fix}"
            )


def _equal_length_groups(waveforms: list[np.ndarray]) -> dict[int, list[int]]:
    """Indices by waveform length: equal lengths run as one batch with no padding, so batching changes nothing."""
    groups: dict[int, list[int]] = {}
    for index, waveform in enumerate(waveforms):
        groups.setdefault(int(waveform.size), []).append(index)
    return groups


class PaddleSpeechModel(EmbeddingModel):
    """A PaddleSpeech network; unavailable (with the fix) when its weights or paddle itself are missing."""

    def __init__(self, store: weights.WeightStore, threads: int = 0, fast: bool = False) -> None:
        self._store = store
        self._threads = threads
        # Paddle's eager mode (the network, PANNs' feature extractor) runs one call at a time: its grad switch is
        # process-wide.
        self._lock = threading.Lock()
        # Every embed_batch runs on this pool: one thread, unless the fast path runs several forwards at once (ECAPA's
        # OpenVINO streams). Paddle's CPU kernels run on Intel OpenMP, which keeps a team of worker threads per
        # calling thread, and a team spins for 200 ms (KMP_BLOCKTIME) after each parallel region: forwards called
        # from a pool of gRPC threads made a team per thread, and idle teams spun on the cores the working one needed
        # (CNN14 over gRPC ran at ~0.6-0.75x the same forward in process on 2 cores).
        self._worker: ThreadPoolExecutor | None = None
        self._forwards = 1
        self._network = None
        self._predictor = None
        self.engine_used = ""  # the fast path's engine once built (ECAPA: "openvino"; "paddle" after a fallback)
        self._reason = ""
        try:
            folder = store.require(self.name)
            self._network = self._build(folder, weights.fix_hint(self.name))
            self._network.eval()
            for parameter in self._network.parameters():
                parameter.stop_gradient = True
            set_threads(threads)
            blas.limit_numpy_blas()
            if fast:
                try:
                    self._predictor = self._fast_predictor(folder)
                except Exception:  # the eager network serves the same vectors, only slower
                    log.exception("model %s: the fast path failed to build; serving the eager network", self.name)
            self._worker = ThreadPoolExecutor(
                self._forwards, f"{self.name}-forward", initializer=set_threads, initargs=(threads,)
            )
            mode = f" (fast path: {self.engine_used})" if self._predictor else ""
            log.info("model %s loaded from %s%s", self.name, folder, mode)
        except weights.WeightsError as error:
            self._reason = error.message
            log.warning("model %s is unavailable: %s", self.name, error.message)
        except ImportError as error:
            self._reason = f"paddle is not importable ({error}); {INSTALL_HINT}"
            log.warning("model %s is unavailable: %s", self.name, self._reason)

    @property
    def unavailable_reason(self) -> str:
        return self._reason

    @property
    def network(self):
        """The paddle Layer (eval mode), for export and benchmarks."""
        return self._network

    def _build(self, folder, fix: str):
        raise NotImplementedError

    def embed_batch(self, waveforms: list[np.ndarray]) -> np.ndarray:
        if not waveforms:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._network is None or self._worker is None:
            raise RuntimeError(f"model {self.name} is not available: {self._reason}")
        return self._worker.submit(self._embed, waveforms).result()

    def _embed(self, waveforms: list[np.ndarray]) -> np.ndarray:
        out = np.zeros((len(waveforms), self.dimension), dtype=np.float32)
        for indices in _equal_length_groups(waveforms).values():
            batch = np.stack([np.asarray(waveforms[index], dtype=np.float32) for index in indices])
            out[indices] = self.forward(self.features(batch))
        return l2_normalise(out)

    def features(self, batch: np.ndarray) -> np.ndarray:
        """The network's input for (n, samples) float32 waveforms of equal length."""
        raise NotImplementedError

    def forward(self, features: np.ndarray) -> np.ndarray:
        """(n, dimension) raw embeddings from features: the fast path when built, else eager."""
        if self._predictor is not None:
            return self._predictor(features).reshape(len(features), self.dimension)
        return self.forward_eager(features)

    def forward_eager(self, features: np.ndarray) -> np.ndarray:
        paddle = _paddle()
        # One forward at a time per network: paddle's eager mode keeps grad state per process, and each forward
        # already uses every thread it was given.
        with self._lock, paddle.no_grad():
            return self._run(paddle, paddle.to_tensor(features)).numpy().reshape(len(features), self.dimension)

    def _run(self, paddle, inputs):
        return self._network(inputs)

    # The static graph's input: (batch, ...) with the time axis free.
    input_shape: tuple = ()
    # The predictor's CPU engine, chosen per model by measurement (bench/embedding.py): "onednn" (oneDNN kernels) or
    # "paddle" (Paddle's own kernels: im2col + MKL gemm). An engine that fails to build falls back to Paddle's own.
    engine = "onednn"
    # Bumped when the export changes, so exports cached by an older version are not reused.
    export_version = 1

    def _fast_predictor(self, folder):
        """A Paddle Inference predictor over the network exported to a static graph (cached beside the weights,
        keyed by the checkpoint's md5, so new weights re-export)."""
        paddle = _paddle()
        checkpoint_md5 = self._store.manifest(self.name)["files"][self._store.spec(self.name).checkpoint_file]
        prefix = folder / "inference" / f"{checkpoint_md5[:12]}-v{self.export_version}" / "model"
        params = prefix.with_suffix(".pdiparams")
        if not params.exists():
            spec = [paddle.static.InputSpec(list(self.input_shape), "float32", "feats")]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                static = paddle.jit.to_static(self._network, input_spec=spec, full_graph=True)
                paddle.jit.save(static, str(prefix))
        graph = next(path for path in prefix.parent.iterdir() if path.suffix in (".json", ".pdmodel"))
        self.engine_used = self.engine
        try:
            predictor = paddle.inference.create_predictor(self._predictor_config(paddle, graph, params, self.engine))
        except Exception:
            if self.engine == "paddle":
                raise
            log.exception("model %s: the %s engine failed; using Paddle's own CPU kernels", self.name, self.engine)
            self.engine_used = "paddle"
            predictor = paddle.inference.create_predictor(self._predictor_config(paddle, graph, params, "paddle"))
        inputs = predictor.get_input_handle(predictor.get_input_names()[0])
        outputs = predictor.get_output_handle(predictor.get_output_names()[0])
        lock = threading.Lock()  # one predictor: one run at a time

        def run(features: np.ndarray) -> np.ndarray:
            with lock:
                inputs.reshape(features.shape)
                inputs.copy_from_cpu(np.ascontiguousarray(features, dtype=np.float32))
                predictor.run()
                return outputs.copy_to_cpu()

        return run

    def _predictor_config(self, paddle, graph, params, engine: str):
        config = paddle.inference.Config(str(graph), str(params))
        config.disable_gpu()
        config.disable_glog_info()
        if engine == "onednn":
            config.enable_mkldnn()
        else:
            config.disable_mkldnn()  # Paddle 3 turns oneDNN on by default for CPU predictors
        config.set_cpu_math_library_num_threads(self._threads or os.cpu_count() or 1)
        return config


class EcapaTdnnModel(PaddleSpeechModel):
    name = "ecapa_tdnn"
    dimension = 192
    sample_rate = 16000
    min_duration_seconds = 0.1
    description = (
        "PaddleSpeech ECAPA-TDNN speaker embedding (ecapatdnn_voxceleb12, VoxCeleb1+2), 192-d, 16 kHz; "
        "for voice and speaker similarity"
    )

    def _build(self, folder, fix: str):
        paddle = _paddle()
        ecapa = paddlespeech_module("vector.models.ecapa_tdnn")
        self._melspectrogram = paddlespeech_module("audio.compliance.librosa").melspectrogram
        spec = self._store.spec(self.name)
        config_path = folder / spec.config_file
        config = _read_yaml(config_path, fix)
        _check_features(config, ECAPA_FEATURES, {}, config_path, fix)
        model_config = config.get("model")
        if not isinstance(model_config, dict):
            raise weights.WeightsError(f"config {config_path} has no `model` section; {fix}")
        try:
            with paddle.LazyGuard():
                network = ecapa.EcapaTdnn(**model_config)
        except TypeError as error:
            raise weights.WeightsError(f"config {config_path}: bad `model` section ({error}); {fix}") from None
        if network.emb_size != self.dimension:
            raise weights.WeightsError(
                f"config {config_path} sets lin_neurons={network.emb_size}; {self.name} serves {self.dimension}-d "
                f"vectors; {fix}"
            )
        path = folder / spec.checkpoint_file
        state = weights.read_state_dict(path, fix)
        # The archive is a SpeakerIdetification: the backbone is the embedding; the classifier head is not used.
        backbone = {key.removeprefix("backbone."): value for key, value in state.items() if key.startswith("backbone.")}
        head = {key: value for key, value in state.items() if not key.startswith("backbone.")}
        unexpected = sorted(key for key in head if key != "weight" and not key.startswith("blocks."))
        if unexpected:
            raise weights.WeightsError(
                f"checkpoint {path} does not fit the model (unexpected keys: {', '.join(unexpected[:5])}); {fix}"
            )
        weights.load_strict(network, backbone, path, fix)
        return network

    def features(self, batch: np.ndarray) -> np.ndarray:
        f = ECAPA_FEATURES
        feats = np.stack(
            [
                self._melspectrogram(
                    x=waveform, sr=f["sr"], n_mels=f["n_mels"], window_size=f["window_size"], hop_length=f["hop_size"]
                )
                for waveform in batch
            ]
        ).astype(np.float32)
        # feature_normalize(mean_norm=True, std_norm=False): each mel band centred over the utterance.
        return feats - feats.mean(axis=-1, keepdims=True)

    def _run(self, paddle, inputs):
        return self._network(inputs, paddle.ones([inputs.shape[0]]))

    def _fast_predictor(self, folder):
        """The network rebuilt as an OpenVINO graph from its weights (ecapa_openvino: why, measured): `threads`
        forwards at once (0: one per core), each on one thread."""
        from embedding_service.models import ecapa_openvino

        predictor = ecapa_openvino.EcapaForward(self._network, self._threads or os.cpu_count() or 1)
        self.engine_used = "openvino"
        self._forwards = predictor.streams
        return predictor


class PannsModel(PaddleSpeechModel):
    input_shape = (None, 1, None, 64)
    sample_rate = 32000
    min_duration_seconds = 0.2
    size = 14

    def _build(self, folder, fix: str):
        paddle = _paddle()
        panns = paddlespeech_module("cls.models.panns.panns")
        from paddle.audio.features import LogMelSpectrogram

        spec = self._store.spec(self.name)
        config_path = folder / spec.config_file
        config = _read_yaml(config_path, fix)
        feature = config.get("feature", {})
        _check_features(feature, PANNS_FEATURES, {"sample_rate": "sr", "window_length": "win_length"}, config_path, fix)
        f = PANNS_FEATURES
        self._extractor = LogMelSpectrogram(
            sr=f["sample_rate"],
            n_fft=f["n_fft"],
            hop_length=f["hop_length"],
            window=f["window"],
            win_length=f["window_length"],
            f_min=f["f_min"],
            f_max=f["f_max"],
            n_mels=f["n_mels"],
        )
        with paddle.LazyGuard():
            network = getattr(panns, f"CNN{self.size}")(extract_embedding=True)
        path = folder / spec.checkpoint_file
        weights.load_strict(network, weights.read_state_dict(path, fix), path, fix)
        return network

    def features(self, batch: np.ndarray) -> np.ndarray:
        paddle = _paddle()
        with self._lock, paddle.no_grad():
            feats = self._extractor(paddle.to_tensor(batch))  # (n, mels, frames)
            return paddle.transpose(feats, [0, 2, 1]).unsqueeze(1).numpy()  # (n, 1, frames, mels)


class Cnn14Model(PannsModel):
    name = "panns_cnn14"
    dimension = 2048
    size = 14
    description = "PaddleSpeech PANNs CNN14 (AudioSet) embedding, 2048-d, 32 kHz; for general sound similarity"


class Cnn10Model(PannsModel):
    name = "panns_cnn10"
    dimension = 512
    size = 10
    description = "PaddleSpeech PANNs CNN10 (AudioSet) embedding, 512-d, 32 kHz; smaller and faster than CNN14"


class Cnn6Model(PannsModel):
    name = "panns_cnn6"
    dimension = 512
    size = 6
    description = "PaddleSpeech PANNs CNN6 (AudioSet) embedding, 512-d, 32 kHz; the smallest and fastest PANNs"


MODELS: dict[str, type[PaddleSpeechModel]] = {
    cls.name: cls for cls in (EcapaTdnnModel, Cnn14Model, Cnn10Model, Cnn6Model)
}


def build_models(store: weights.WeightStore, names, threads: int = 0, fast: bool = False) -> list[PaddleSpeechModel]:
    """The named PaddleSpeech models (unknown names refused), each loaded or listed unavailable with its fix."""
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        raise ValueError(f"unknown PaddleSpeech models {unknown}; known: {', '.join(MODELS)}")
    return [MODELS[name](store, threads, fast) for name in names]
