"""Gateway process: wires the three peer clients into the core and serves the public API."""

from audiosearch.gateway.v1 import gateway_service_pb2_grpc as pb2_grpc
from audiosearch.gateway.v1.import_job_service_pb2_grpc import add_ImportJobServiceServicer_to_server
from audiosearch.gateway.v1.speaker_service_pb2_grpc import add_SpeakerServiceServicer_to_server
from audiosearch.runtime import memory
from audiosearch.runtime.logs import setup_logging
from audiosearch.runtime.security import ServerSecurity, load_channel_security, load_server_security
from audiosearch.runtime.server import Registration, RunningServer, create_server, serve
from audiosearch.runtime.settings import exit_on_bad_setting
from audiosearch.sdk import services
from audiosearch.sdk.errors import SettingsError
from audiosearch.sdk.security import ChannelSecurity
from gateway import clients, config
from gateway.core import GatewayCore
from gateway.import_job_servicer import ImportJobServicer
from gateway.import_jobs import ImportJobs, JobRunner, new_holder
from gateway.import_pipeline import ImportRun, PipelineSettings
from gateway.job_client import ImportJobRecords
from gateway.rebuild import RebuildRun, Rebuilds
from gateway.reconcile import PeriodicReconcile, Reconciler
from gateway.servicer import GatewayServicer
from gateway.speaker_servicer import SpeakerServicer
from gateway.speakers import SpeakerCore, speaker_settings

SERVICE_NAME = services.GATEWAY.full_name


def build_core(settings: config.GatewaySettings, peers: ChannelSecurity | None = None) -> GatewayCore:
    """`peers`: TLS and the internal token for calls to the three services (default: plaintext, no token)."""
    index = clients.connect(settings.search_address, clients.SearchClient, settings.call_timeout_seconds, peers)
    catalog = clients.connect(settings.metadata_address, clients.MetadataClient, settings.call_timeout_seconds, peers)
    embedder = clients.connect(
        settings.embedding_address, clients.EmbeddingClient, settings.embed_timeout_seconds, peers
    )
    return GatewayCore(
        embedder=embedder,
        index=index,
        catalog=catalog,
        reconciler=Reconciler(catalog, index, embedder, settings.reconcile_min_age_seconds),
        max_upload_bytes=settings.max_upload_bytes,
        importer=build_import_jobs(settings, embedder, index, catalog, peers),
        collection_cache_seconds=settings.collection_cache_seconds,
    )


def build_import_jobs(settings: config.GatewaySettings, embedder, index, catalog, peers) -> ImportJobs:
    """Import jobs over the metadata service's job records; the runner starts with the first job created here, or
    at main()'s start (to resume jobs), whichever comes first."""
    records = clients.connect(settings.metadata_address, ImportJobRecords, settings.call_timeout_seconds, peers)
    pipeline = PipelineSettings(
        concurrency=config.import_concurrency(settings),
        batch_size=settings.import_batch_size,
        lease_seconds=settings.import_lease_seconds,
        retry_seconds=settings.import_retry_seconds,
        import_roots=settings.import_roots,
        max_upload_bytes=settings.max_upload_bytes,
    )

    def make_run(job, holder: str) -> ImportRun:
        if job.rebuild is not None:
            return RebuildRun(job, holder, records, embedder, index, catalog, pipeline, audio=catalog)
        return ImportRun(job, holder, records, embedder, index, catalog, pipeline)

    runner = JobRunner(records, make_run, new_holder(), settings.import_lease_seconds, settings.import_poll_seconds)
    return ImportJobs(records, catalog, runner, settings.import_roots)


def build_server(
    settings: config.GatewaySettings, core: GatewayCore, security: ServerSecurity | None = None
) -> RunningServer:
    """Bind settings.listen with `security` (token auth, TLS; default plaintext); the caller starts it."""
    registration = Registration(GatewayServicer(core), pb2_grpc.add_GatewayServiceServicer_to_server, SERVICE_NAME)
    speaker_core = SpeakerCore(core, core.catalog, speaker_settings(settings))
    speakers = Registration(
        SpeakerServicer(speaker_core), add_SpeakerServiceServicer_to_server, services.SPEAKERS.full_name
    )
    registrations = [registration, speakers]
    if isinstance(core.importer, ImportJobs):
        jobs = ImportJobServicer(core.importer, Rebuilds(core.importer, core.catalog, core._model))
        registrations.append(Registration(jobs, add_ImportJobServiceServicer_to_server, services.IMPORT_JOBS.full_name))
    return create_server(
        settings.listen,
        registrations,
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
    memory.set_allocator_thresholds(memory.MESSAGES)
    core = build_core(settings, peers)
    running = build_server(settings, core, security)
    if settings.reconcile_interval_seconds > 0:
        PeriodicReconcile(core.reconciler, settings.reconcile_interval_seconds).start()
    if isinstance(core.importer, ImportJobs):
        core.importer.runner.start()  # resume the jobs a dead gateway (maybe this one, before a restart) left
    serve(running, "audiosearch-gateway", settings.grace_seconds)


if __name__ == "__main__":
    main()
