"""Process entry point: `python -m embedding_service.server` (settings from AUDIOSEARCH_EMBEDDING_*)."""

from audiosearch.embedding.v1.embedding_service_pb2_grpc import add_EmbeddingServiceServicer_to_server
from audiosearch.runtime import memory
from audiosearch.runtime.logs import setup_logging
from audiosearch.runtime.security import ServerSecurity, load_server_security
from audiosearch.runtime.server import Registration, RunningServer, create_server, serve
from audiosearch.runtime.settings import exit_on_bad_setting
from audiosearch.sdk import services
from audiosearch.sdk.errors import SettingsError
from embedding_service import config
from embedding_service.core import EmbeddingCore, Limits
from embedding_service.files import RootedFiles
from embedding_service.metrics import timed_registry
from embedding_service.models.fingerprint import FingerprintModel
from embedding_service.models.ge2e import Ge2eModel
from embedding_service.models.logmel import LogMelModel
from embedding_service.models.registry import ModelRegistry
from embedding_service.servicer import EmbeddingServicer

SERVICE_NAME = services.EMBEDDING.full_name


def build_core(settings: config.EmbeddingSettings, registry: ModelRegistry) -> EmbeddingCore:
    limits = Limits(
        settings.max_audio_bytes,
        settings.max_duration_seconds,
        settings.max_concurrent_embeds,
        max_decoded_samples=settings.max_decoded_samples,
        decode_budget_samples=settings.decode_budget_samples,
    )
    read_uri = RootedFiles(settings.allowed_roots, settings.max_audio_bytes).read
    return EmbeddingCore(timed_registry(registry), limits, read_uri)


def build_registry(settings: config.EmbeddingSettings) -> ModelRegistry:
    """The models named in settings.models; PaddleSpeech ones load their weights from settings.model_dir."""
    # Models in plain numpy: no paddle import (ge2e reads resemblyzer's weights file itself).
    local = {
        "logmel": LogMelModel,
        "fingerprint": FingerprintModel,
        "ge2e": lambda: Ge2eModel(settings.ge2e_weights or None),
    }
    models = [local[name]() for name in settings.models if name in local]
    wanted = [name for name in settings.models if name not in local]
    if wanted:
        from embedding_service.models import paddlespeech, weights  # paddle is imported only when wanted

        store = weights.WeightStore(settings.model_dir)
        models += paddlespeech.build_models(store, wanted, settings.model_threads, settings.fast_inference)
    return ModelRegistry(models)


def build_server(
    settings: config.EmbeddingSettings, core: EmbeddingCore, security: ServerSecurity | None = None
) -> RunningServer:
    """Bind settings.listen with `security` (token auth, TLS; default plaintext); the caller starts it."""
    registration = Registration(EmbeddingServicer(core), add_EmbeddingServiceServicer_to_server, SERVICE_NAME)
    return create_server(
        settings.listen,
        [registration],
        settings.max_message_bytes,
        settings.max_workers,
        metrics_port=settings.metrics_port,
        security=security,
    )


def main() -> None:
    try:
        settings = config.load()
        security = load_server_security(config.PREFIX)
    except SettingsError as error:
        exit_on_bad_setting("audiosearch-embedding", error)
    setup_logging("embedding", settings.log_level)
    memory.set_allocator_thresholds(memory.DECODING)
    core = build_core(settings, build_registry(settings))
    serve(build_server(settings, core, security), "audiosearch-embedding", settings.grace_seconds)


if __name__ == "__main__":
    main()
