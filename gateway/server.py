"""Gateway process: wires the three peer clients into the core and serves the public API."""

from audiosearch.gateway.v1 import gateway_service_pb2_grpc as pb2_grpc
from audiosearch.gateway.v1.speaker_service_pb2_grpc import add_SpeakerServiceServicer_to_server
from audiosearch.runtime.logs import setup_logging
from audiosearch.runtime.security import ServerSecurity, load_channel_security, load_server_security
from audiosearch.runtime.server import Registration, RunningServer, create_server, serve
from audiosearch.runtime.settings import exit_on_bad_setting
from audiosearch.sdk import services
from audiosearch.sdk.errors import SettingsError
from audiosearch.sdk.security import ChannelSecurity
from gateway import clients, config
from gateway.core import GatewayCore
from gateway.reconcile import PeriodicReconcile, Reconciler
from gateway.servicer import GatewayServicer
from gateway.speaker_servicer import SpeakerServicer
from gateway.speakers import SpeakerCore, speaker_settings

SERVICE_NAME = services.GATEWAY.full_name


def build_core(settings: config.GatewaySettings, peers: ChannelSecurity | None = None) -> GatewayCore:
    """`peers`: TLS and the internal token for calls to the three services (default: plaintext, no token)."""
    index = clients.connect(settings.search_address, clients.SearchClient, settings.call_timeout_seconds, peers)
    catalog = clients.connect(settings.metadata_address, clients.MetadataClient, settings.call_timeout_seconds, peers)
    return GatewayCore(
        embedder=clients.connect(
            settings.embedding_address, clients.EmbeddingClient, settings.embed_timeout_seconds, peers
        ),
        index=index,
        catalog=catalog,
        reconciler=Reconciler(catalog, index, settings.reconcile_min_age_seconds),
        import_roots=settings.import_roots,
        max_upload_bytes=settings.max_upload_bytes,
    )


def build_server(
    settings: config.GatewaySettings, core: GatewayCore, security: ServerSecurity | None = None
) -> RunningServer:
    """Bind settings.listen with `security` (token auth, TLS; default plaintext); the caller starts it."""
    registration = Registration(GatewayServicer(core), pb2_grpc.add_GatewayServiceServicer_to_server, SERVICE_NAME)
    speaker_core = SpeakerCore(core, core.catalog, speaker_settings(settings))
    speakers = Registration(
        SpeakerServicer(speaker_core), add_SpeakerServiceServicer_to_server, services.SPEAKERS.full_name
    )
    return create_server(
        settings.listen,
        [registration, speakers],
        settings.max_message_bytes,
        settings.max_workers,
        metrics_port=settings.metrics_port,
        security=security,
    )


def main() -> None:
    try:
        settings = config.load()
        security = load_server_security(config.PREFIX)
        peers = load_channel_security(config.PEER_PREFIX)
    except SettingsError as error:
        exit_on_bad_setting("audiosearch-gateway", error)
    setup_logging("gateway", settings.log_level)
    core = build_core(settings, peers)
    running = build_server(settings, core, security)
    if settings.reconcile_interval_seconds > 0:
        PeriodicReconcile(core.reconciler, settings.reconcile_interval_seconds).start()
    serve(running, "audiosearch-gateway", settings.grace_seconds)


if __name__ == "__main__":
    main()
