"""One server bootstrap for every service: interceptors, health, reflection, message limits, signals."""

import contextlib
import dataclasses
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from audiosearch.runtime import context, metrics
from audiosearch.runtime.interceptor import CallInterceptor
from audiosearch.runtime.logs import log_fields
from audiosearch.runtime.security import ServerSecurity
from audiosearch.sdk import errors, rpc_errors
from audiosearch.sdk.channel import REQUEST_ID_HEADER, message_options

log = logging.getLogger("audiosearch.server")


@dataclasses.dataclass
class Registration:
    """A servicer, the generated function that adds it to a server, and its full service name."""

    servicer: object
    add_to_server: Callable[[object, grpc.Server], None]
    service_name: str


@dataclasses.dataclass
class RunningServer:
    server: grpc.Server
    port: int
    health: health.HealthServicer
    service_names: list[str]
    metrics_endpoint: metrics.MetricsEndpoint | None = None

    def set_serving(self, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in ["", *self.service_names]:
            self.health.set(name, status)

    def stop(self, grace: float) -> None:
        """Health goes NOT_SERVING first, so balancers stop sending; in-flight calls get `grace` seconds."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        if self.metrics_endpoint:
            self.metrics_endpoint.stop()


def _call_started(servicer_context: grpc.ServicerContext) -> None:
    metadata = dict(servicer_context.invocation_metadata() or ())
    context.request_id.set(metadata.get(REQUEST_ID_HEADER) or context.new_request_id())
    context.set_deadline(servicer_context.time_remaining())


def _fail(servicer_context: grpc.ServicerContext, method: str, error: Exception) -> None:
    if isinstance(error, errors.AudioSearchError):
        log.info("rpc failed", extra=log_fields(method=method, code=error.code_name, reason=error.reason))
        servicer_context.abort_with_status(rpc_errors.to_status(error))
    if isinstance(error, grpc.RpcError) and not servicer_context.is_active():
        # The client went away mid-stream (cancelled, or its process died): nothing crashed here.
        log.info("rpc cancelled by the client", extra=log_fields(method=method))
        servicer_context.abort(grpc.StatusCode.CANCELLED, "the client cancelled the call")
    log.exception("rpc crashed", extra=log_fields(method=method))
    servicer_context.abort(grpc.StatusCode.INTERNAL, f"internal error in {method}; see the server log")


class ErrorMappingInterceptor(CallInterceptor):
    """Sets the call context, logs, and maps domain errors to status codes for every RPC."""

    @contextlib.contextmanager
    def around(self, method: str, servicer_context: grpc.ServicerContext) -> Iterator[None]:
        _call_started(servicer_context)
        started = time.perf_counter()
        try:
            yield
        except Exception as error:  # noqa: BLE001 - mapped to a status here, the one place
            _fail(servicer_context, method, error)
        log.debug("rpc ok", extra=log_fields(method=method, ms=round((time.perf_counter() - started) * 1000, 2)))


def create_server(
    address: str,
    registrations: Iterable[Registration],
    max_message_bytes: int,
    max_workers: int = 16,
    interceptors: Iterable[grpc.ServerInterceptor] = (),
    metrics_port: int = 0,
    security: ServerSecurity | None = None,
) -> RunningServer:
    """Bind `address` (port 0 picks a free one); health starts NOT_SERVING until set_serving(True).

    A metrics_port serves Prometheus /metrics on the address's host (0: off). `security` (token auth, TLS) is what
    the service loaded with its settings (audiosearch.runtime.security); without it the port is plaintext, no auth.
    """
    registrations = list(registrations)
    security = security or ServerSecurity()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers),
        interceptors=[
            metrics.RequestMetricsInterceptor(),
            *security.interceptors(),  # token auth (audiosearch.runtime.auth), first to refuse
            *interceptors,
            ErrorMappingInterceptor(),
        ],
        options=message_options(max_message_bytes),
        maximum_concurrent_rpcs=max_workers * 4,
    )
    for registration in registrations:
        registration.add_to_server(registration.servicer, server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [registration.service_name for registration in registrations]
    reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    port = security.bind(server, address)
    if port == 0:
        raise errors.Unavailable(f"could not bind {address}: is the port in use?", "BIND_FAILED")
    running = RunningServer(server, port, health_servicer, names, metrics.serve_metrics(address, metrics_port))
    running.set_serving(False)
    return running


def serve(running: RunningServer, name: str, grace: float) -> None:
    """Start, announce the port on stdout (launchers read it), then block until SIGTERM/SIGINT."""
    stop_requested = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop_requested.set())
    running.server.start()
    running.set_serving(True)
    print(f"{name} listening on port {running.port}", flush=True)
    metrics_port = running.metrics_endpoint.port if running.metrics_endpoint else 0
    log.info("serving", extra=log_fields(port=running.port, metrics_port=metrics_port))
    stop_requested.wait()
    log.info("shutting down", extra=log_fields(grace_seconds=grace))
    running.stop(grace)
    sys.stdout.flush()
