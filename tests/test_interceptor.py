"""The one interceptor base: `around` runs about calls of all four shapes, over the real wire; health is left alone."""

import contextlib
from concurrent import futures

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from audiosearch.runtime.interceptor import CallInterceptor

SERVICE = "example.v1.Echo"


def _identity(payload: bytes) -> bytes:
    return payload


class Recording(CallInterceptor):
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    @contextlib.contextmanager
    def around(self, method, servicer_context):
        self.events.append(("before", method))
        try:
            yield
        except Exception as error:
            self.events.append(("raised", type(error).__name__))
            raise
        self.events.append(("after", method))


def _handlers():
    def unary(request, context):
        if request == b"fail":
            raise ValueError("fail")
        return request

    def client_stream(requests, context):
        return b"".join(requests)

    def server_stream(request, context):
        yield request
        yield request

    def both_streams(requests, context):
        yield from requests

    kinds = {
        "Unary": (grpc.unary_unary_rpc_method_handler, unary),
        "ClientStream": (grpc.stream_unary_rpc_method_handler, client_stream),
        "ServerStream": (grpc.unary_stream_rpc_method_handler, server_stream),
        "BothStreams": (grpc.stream_stream_rpc_method_handler, both_streams),
    }
    return {
        name: make(behavior, request_deserializer=_identity, response_serializer=_identity)
        for name, (make, behavior) in kinds.items()
    }


@pytest.fixture
def served():
    interceptor = Recording()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), interceptors=[interceptor])
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, _handlers())])
    health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield channel, interceptor
    channel.close()
    server.stop(0)


def test_around_wraps_every_call_shape(served):
    channel, interceptor = served
    path = f"/{SERVICE}/"
    unary = channel.unary_unary(path + "Unary", request_serializer=_identity, response_deserializer=_identity)
    assert unary(b"a", timeout=10) == b"a"
    client_stream = channel.stream_unary(
        path + "ClientStream", request_serializer=_identity, response_deserializer=_identity
    )
    assert client_stream(iter([b"a", b"b"]), timeout=10) == b"ab"
    server_stream = channel.unary_stream(
        path + "ServerStream", request_serializer=_identity, response_deserializer=_identity
    )
    assert list(server_stream(b"c", timeout=10)) == [b"c", b"c"]
    both = channel.stream_stream(path + "BothStreams", request_serializer=_identity, response_deserializer=_identity)
    assert list(both(iter([b"d", b"e"]), timeout=10)) == [b"d", b"e"]
    with pytest.raises(grpc.RpcError):
        unary(b"fail", timeout=10)
    health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)

    expected = []
    for name in ("Unary", "ClientStream", "ServerStream", "BothStreams"):
        expected += [("before", path + name), ("after", path + name)]
    expected += [("before", path + "Unary"), ("raised", "ValueError")]
    assert interceptor.events == expected  # and nothing for health
