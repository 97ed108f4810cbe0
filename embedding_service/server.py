"""Process entry point: `python -m embedding_service.server` (settings from AUDIOSEARCH_EMBEDDING_*)."""

from audiosearch.common.logs import setup_logging
from audiosearch.common.server import Registration, RunningServer, create_server, serve
from audiosearch.embedding.v1.embedding_service_pb2_grpc import add_EmbeddingServiceServicer_to_server
from embedding_service import config
from embedding_service.core import EmbeddingCore, Limits
from embedding_service.files import RootedFiles
from embedding_service.models.logmel import LogMelModel
from embedding_service.models.registry import ModelRegistry
from embedding_service.servicer import EmbeddingServicer

SERVICE_NAME = "audiosearch.embedding.v1.EmbeddingService"


def build_core(settings: config.EmbeddingSettings, registry: ModelRegistry) -> EmbeddingCore:
    limits = Limits(settings.max_audio_bytes, settings.max_duration_seconds, settings.max_concurrent_embeds)
    return EmbeddingCore(registry, limits, RootedFiles(settings.allowed_roots, settings.max_audio_bytes).read)


def build_server(settings: config.EmbeddingSettings, core: EmbeddingCore) -> RunningServer:
    registration = Registration(EmbeddingServicer(core), add_EmbeddingServiceServicer_to_server, SERVICE_NAME)
    return create_server(settings.listen, [registration], settings.max_message_bytes, settings.max_workers)


def main() -> None:
    settings = config.load()
    setup_logging("embedding", settings.log_level)
    core = build_core(settings, ModelRegistry([LogMelModel()]))
    serve(build_server(settings, core), "audiosearch-embedding", settings.grace_seconds)


if __name__ == "__main__":
    main()
