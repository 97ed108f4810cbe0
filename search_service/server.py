"""Search service process: settings, the Milvus store, the gRPC server. `python -m search_service.server`."""

import logging
import sys

from audiosearch.runtime.logs import log_fields, setup_logging
from audiosearch.runtime.metrics import TimedStore
from audiosearch.runtime.security import ServerSecurity, load_server_security
from audiosearch.runtime.server import Registration, RunningServer, create_server, serve
from audiosearch.runtime.settings import exit_on_bad_setting
from audiosearch.sdk import errors, services
from audiosearch.sdk.errors import SettingsError
from audiosearch.search.v1 import search_service_pb2_grpc as pb2_grpc
from search_service import config
from search_service.config import SearchSettings
from search_service.core import SearchCore
from search_service.servicer import SearchServicer
from search_service.store import MilvusVectorStore

SERVICE_NAME = services.SEARCH.full_name
log = logging.getLogger("audiosearch.search")


def build_server(settings: SearchSettings, core: SearchCore, security: ServerSecurity | None = None) -> RunningServer:
    """Bind settings.listen with `security` (token auth, TLS; default plaintext); the caller starts it."""
    registration = Registration(SearchServicer(core), pb2_grpc.add_SearchServiceServicer_to_server, SERVICE_NAME)
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
        exit_on_bad_setting("audiosearch-search", error)
    setup_logging("search", settings.log_level)
    try:
        store = MilvusVectorStore.open(settings)
    except errors.AudioSearchError as error:  # fail fast: no point serving without the vector store
        log.error("cannot open the vector store", extra=log_fields(reason=error.reason))
        sys.exit(f"audiosearch-search: {error.message}")
    try:
        core = SearchCore(TimedStore(store, "milvus"))
        serve(build_server(settings, core, security), "audiosearch-search", settings.grace_seconds)
    finally:
        store.close()


if __name__ == "__main__":
    main()
