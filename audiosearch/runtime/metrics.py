"""Prometheus metrics shared by every service: per-RPC counts and latencies (a server interceptor), store call
latencies (a timing proxy), and the HTTP endpoint that serves them (`<SERVICE>_METRICS_PORT`, 0 = off).

Names follow go-grpc-prometheus (`grpc_server_handled_total`, `grpc_server_handling_seconds`), so its dashboards
and alerts work unchanged.
"""

import contextlib
import functools
import threading
import time
from collections.abc import Iterator

import grpc
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server

from audiosearch.runtime.interceptor import CallInterceptor

# From 1 ms to 2 min: cache hits and unary metadata calls up to embedding long recordings.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

RPC_HANDLED = Counter(
    "grpc_server_handled_total",
    "RPCs completed on the server, by method and status code",
    ["grpc_service", "grpc_method", "grpc_code"],
)
RPC_SECONDS = Histogram(
    "grpc_server_handling_seconds",
    "Time from the start of an RPC to its status, by method and status code",
    ["grpc_service", "grpc_method", "grpc_code"],
    buckets=LATENCY_BUCKETS,
)
RPC_IN_FLIGHT = Gauge(
    "grpc_server_in_flight", "RPCs being handled now (queue depth), by method", ["grpc_service", "grpc_method"]
)
STORE_SECONDS = Histogram(
    "audiosearch_store_seconds",
    "Latency of calls to a store (Milvus, SQL), by operation and outcome",
    ["store", "operation", "outcome"],
    buckets=LATENCY_BUCKETS,
)


def _split(full_method: str) -> tuple[str, str]:
    service, _, method = full_method.lstrip("/").partition("/")
    return service, method


class RequestMetricsInterceptor(CallInterceptor):
    """Counts and times every RPC by service, method and status code (health and reflection excepted).

    Placed outermost, so it sees the final status, including refusals by interceptors inside it (auth).
    """

    @contextlib.contextmanager
    def around(self, method: str, servicer_context: grpc.ServicerContext) -> Iterator[None]:
        labels = _split(method)
        started = time.perf_counter()
        RPC_IN_FLIGHT.labels(*labels).inc()
        failed = True
        try:
            yield
            failed = False
        finally:
            # The code the context carries (set by abort or set_code); none set is OK, or UNKNOWN after a raise.
            code = servicer_context.code()
            name = code.name if isinstance(code, grpc.StatusCode) else ("UNKNOWN" if failed else "OK")
            RPC_IN_FLIGHT.labels(*labels).dec()
            RPC_HANDLED.labels(*labels, name).inc()
            RPC_SECONDS.labels(*labels, name).observe(time.perf_counter() - started)


class TimedStore:
    """Wraps a store (or any adapter) so each public method call is timed into audiosearch_store_seconds."""

    def __init__(self, store: object, name: str) -> None:
        self._store = store
        self._name = name

    def __getattr__(self, attribute: str):
        value = getattr(self._store, attribute)
        if attribute.startswith("_") or not callable(value):
            return value
        outcomes = {outcome: STORE_SECONDS.labels(self._name, attribute, outcome) for outcome in ("ok", "error")}

        @functools.wraps(value)
        def timed(*args, **kwargs):
            started = time.perf_counter()
            outcome = "error"
            try:
                result = value(*args, **kwargs)
                outcome = "ok"
                return result
            finally:
                outcomes[outcome].observe(time.perf_counter() - started)

        # Kept on the instance, so later calls skip this lookup (a search is a few hundred microseconds).
        setattr(self, attribute, timed)
        return timed


def _bind_host(listen: str) -> str:
    """The host part of a gRPC listen address ('127.0.0.1:50052', '[::]:50051'), for the metrics endpoint."""
    host = listen.rpartition(":")[0].strip("[]")
    return host or "0.0.0.0"


class MetricsEndpoint:
    """The HTTP server of /metrics, on the same host as the gRPC listen address."""

    _lock = threading.Lock()

    def __init__(self, listen: str, port: int) -> None:
        host = _bind_host(listen)
        with self._lock:
            try:
                self.httpd, self.thread = start_http_server(port, addr=host, registry=REGISTRY)
            except OSError:
                if host != "::":
                    raise
                # [::] on a host without IPv6 (Docker's default network): gRPC falls back to IPv4, so do we.
                self.httpd, self.thread = start_http_server(port, addr="0.0.0.0", registry=REGISTRY)
        self.port = self.httpd.server_port

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve_metrics(listen: str, port: int) -> MetricsEndpoint | None:
    """Start /metrics on `port` (None when port is 0: metrics off)."""
    return MetricsEndpoint(listen, port) if port else None
