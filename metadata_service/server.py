"""Metadata server: build_server() for tests and launchers, main() for the audiosearch-metadata process."""

import logging
import sys
from datetime import timedelta

from audiosearch.metadata.v1.import_job_service_pb2_grpc import add_ImportJobServiceServicer_to_server
from audiosearch.metadata.v1.metadata_service_pb2_grpc import add_MetadataServiceServicer_to_server
from audiosearch.runtime import memory
from audiosearch.runtime.logs import log_fields, setup_logging
from audiosearch.runtime.metrics import TimedStore
from audiosearch.runtime.security import ServerSecurity, load_server_security
from audiosearch.runtime.server import Registration, RunningServer, create_server, serve
from audiosearch.runtime.settings import exit_on_bad_setting
from audiosearch.sdk import errors, services
from audiosearch.sdk.errors import SettingsError
from metadata_service import config
from metadata_service.blobs import S3Credentials, open_blobs
from metadata_service.config import MetadataSettings
from metadata_service.core import MetadataCore
from metadata_service.import_job_servicer import ImportJobServicer
from metadata_service.import_jobs import ImportJobCore
from metadata_service.job_store import ImportJobStore
from metadata_service.metrics import register_clip_counts
from metadata_service.servicer import MetadataServicer
from metadata_service.store import open_store

log = logging.getLogger("audiosearch.metadata")

SERVICE_NAME = services.METADATA.full_name


def build_server(
    settings: MetadataSettings, core: MetadataCore, security: ServerSecurity | None = None
) -> RunningServer:
    """Bind settings.listen (port 0 picks a free one) with `security` (default plaintext); the caller starts it."""
    registration = Registration(
        MetadataServicer(core, settings.max_audio_bytes), add_MetadataServiceServicer_to_server, SERVICE_NAME
    )
    # Import jobs live in the same database as the clips they create (core.store: the store, maybe timed).
    retention = timedelta(days=settings.import_file_retention_days) if settings.import_file_retention_days else None
    jobs = ImportJobServicer(ImportJobCore(ImportJobStore(core.store, retention), core))
    job_registration = Registration(jobs, add_ImportJobServiceServicer_to_server, services.IMPORT_JOB_RECORDS.full_name)
    return create_server(
        settings.listen,
        [registration, job_registration],
        max_message_bytes=settings.max_message_bytes,
        max_workers=settings.max_workers,
        metrics_port=settings.metrics_port,
        security=security,
    )


def main() -> None:
    try:
        settings = config.load()
        security = load_server_security(config.PREFIX)
    except SettingsError as error:
        exit_on_bad_setting("audiosearch-metadata", error)
    setup_logging("metadata", settings.log_level)
    memory.set_allocator_thresholds(memory.MESSAGES)
    try:
        store = open_store(settings.database_url)
        blobs = open_blobs(settings.audio_url, _s3_credentials(settings))
        core = MetadataCore(TimedStore(store, store.backend), TimedStore(blobs, "audio"))
        running = build_server(settings, core, security)
        if settings.metrics_port:
            register_clip_counts(store)
    except (SettingsError, errors.AudioSearchError) as error:
        # Fail fast: a service that cannot reach its database or bind its port must not start.
        log.error("cannot start", extra=log_fields(error=str(error)))
        sys.exit(f"audiosearch-metadata: {error}")
    log.info("database ready", extra=log_fields(database=store.location, audio=blobs.location))
    try:
        serve(running, "audiosearch-metadata", settings.grace_seconds)
    finally:
        store.close()


def _s3_credentials(settings: MetadataSettings) -> S3Credentials:
    return S3Credentials(
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
    )


if __name__ == "__main__":
    main()
