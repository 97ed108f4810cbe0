"""One interceptor base for every server interceptor: the four call shapes are wrapped here, once.

A subclass says only what it does around a call, as a context manager (`around`): code before its `yield` runs
before the servicer, the `yield` raises whatever the servicer raised (for a streaming response, also a client that
went away mid-stream: GeneratorExit), and code after it runs once the call is done.
"""

import contextlib
from collections.abc import Callable, Iterator

import grpc

# Probes and grpcurl must work without a token, and would drown the API's own logs and counts.
OPEN_PREFIXES = ("/grpc.health.", "/grpc.reflection.")

_HANDLER_FACTORIES: dict[tuple[bool, bool], Callable[..., grpc.RpcMethodHandler]] = {
    (False, False): grpc.unary_unary_rpc_method_handler,
    (True, False): grpc.stream_unary_rpc_method_handler,
    (False, True): grpc.unary_stream_rpc_method_handler,
    (True, True): grpc.stream_stream_rpc_method_handler,
}


class CallInterceptor(grpc.ServerInterceptor):
    """Runs `around(method, context)` about every RPC of the served API (health and reflection pass untouched)."""

    def around(self, method: str, servicer_context: grpc.ServicerContext) -> contextlib.AbstractContextManager[None]:
        """What this interceptor does around one call of `method` (/package.Service/Method)."""
        raise NotImplementedError

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(OPEN_PREFIXES):
            return handler
        behavior = handler.unary_unary or handler.stream_unary or handler.unary_stream or handler.stream_stream
        around = self.around

        def unary_response(request_or_iterator, servicer_context):
            with around(method, servicer_context):
                return behavior(request_or_iterator, servicer_context)

        def stream_response(request_or_iterator, servicer_context) -> Iterator:
            with around(method, servicer_context):
                yield from behavior(request_or_iterator, servicer_context)

        factory = _HANDLER_FACTORIES[(handler.request_streaming, handler.response_streaming)]
        return factory(
            stream_response if handler.response_streaming else unary_response,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
