"""Gateway process: wires the three peer clients into the core and serves the public API."""

from audiosearch.common.logs import setup_logging
from audiosearch.common.server import Registration, RunningServer, create_server, serve
from audiosearch.gateway.v1 import gateway_service_pb2_grpc as pb2_grpc
from gateway import clients, config
from gateway.core import GatewayCore
from gateway.servicer import GatewayServicer

SERVICE_NAME = "audiosearch.gateway.v1.GatewayService"


def build_core(settings: config.GatewaySettings) -> GatewayCore:
    return GatewayCore(
        embedder=clients.connect(settings.embedding_address, clients.EmbeddingClient, settings.embed_timeout_seconds),
        index=clients.connect(settings.search_address, clients.SearchClient, settings.call_timeout_seconds),
        catalog=clients.connect(settings.metadata_address, clients.MetadataClient, settings.call_timeout_seconds),
        import_roots=settings.import_roots,
        max_upload_bytes=settings.max_upload_bytes,
    )


def build_server(settings: config.GatewaySettings, core: GatewayCore) -> RunningServer:
    registration = Registration(GatewayServicer(core), pb2_grpc.add_GatewayServiceServicer_to_server, SERVICE_NAME)
    return create_server(settings.listen, [registration], settings.max_message_bytes, settings.max_workers)


def main() -> None:
    settings = config.load()
    setup_logging("gateway", settings.log_level)
    running = build_server(settings, build_core(settings))
    serve(running, "audiosearch-gateway", settings.grace_seconds)


if __name__ == "__main__":
    main()
