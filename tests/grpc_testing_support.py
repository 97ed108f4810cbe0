"""Servicer unit tests without sockets: grpc_testing, with the servers' own error mapping in front of the servicer.

grpc_testing runs no server interceptors and has no ServicerContext.abort_with_status, so `ServicerCalls` puts the
real ErrorMappingInterceptor's handlers in front of the servicer and gives them abort_with_status as grpc's own
server does it (the status's trailing metadata, then its code and details). A caller's view comes back: the
response(s), the status code, the details and the ErrorInfo the status carries.
"""

import dataclasses
import types
from collections.abc import Iterable

import grpc
import grpc_testing
from google.protobuf import descriptor
from google.rpc import error_details_pb2, status_pb2

from audiosearch.runtime.server import ErrorMappingInterceptor

TIMEOUT = 10
STATUS_DETAILS_KEY = "grpc-status-details-bin"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What the caller of one RPC sees."""

    response: object
    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple

    @property
    def error_info(self) -> error_details_pb2.ErrorInfo | None:
        """The ErrorInfo in the google.rpc.Status the server sent, if any."""
        for key, value in self.trailing_metadata:
            if key == STATUS_DETAILS_KEY:
                status = status_pb2.Status.FromString(value)
                assert status.code == self.code.value[0] and status.message == self.details
                for detail in status.details:
                    info = error_details_pb2.ErrorInfo()
                    if detail.Unpack(info):
                        return info
        return None

    @property
    def failure(self) -> tuple[grpc.StatusCode, str]:
        """(code, ErrorInfo reason) of a failed call."""
        assert self.code is not grpc.StatusCode.OK, f"the call succeeded: {self.response}"
        info = self.error_info
        assert info is not None, f"{self.code.name} without ErrorInfo: {self.details}"
        assert info.domain == "audiosearch"
        return self.code, info.reason


class _Aborted(Exception):
    """abort_with_status was called: the call's status is set and the handler must stop."""


class _Context:
    """grpc_testing's ServicerContext, plus abort_with_status done the way grpc's server does it."""

    def __init__(self, context: grpc.ServicerContext) -> None:
        self._context = context

    def __getattr__(self, name: str):
        return getattr(self._context, name)

    def abort_with_status(self, status: grpc.Status) -> None:
        self._context.set_trailing_metadata(status.trailing_metadata)
        self._context.set_code(status.code)
        self._context.set_details(status.details)
        raise _Aborted


@dataclasses.dataclass(frozen=True)
class _CallDetails(grpc.HandlerCallDetails):
    method: str
    invocation_metadata: tuple = ()


def _plain_handler(method: descriptor.MethodDescriptor, behavior) -> grpc.RpcMethodHandler:
    if method.client_streaming and method.server_streaming:
        return grpc.stream_stream_rpc_method_handler(behavior)
    if method.client_streaming:
        return grpc.stream_unary_rpc_method_handler(behavior)
    if method.server_streaming:
        return grpc.unary_stream_rpc_method_handler(behavior)
    return grpc.unary_unary_rpc_method_handler(behavior)


def _mapped(method: descriptor.MethodDescriptor, servicer: object):
    """The servicer's method behind the servers' ErrorMappingInterceptor."""
    plain = _plain_handler(method, getattr(servicer, method.name))
    path = f"/{method.containing_service.full_name}/{method.name}"
    handler = ErrorMappingInterceptor().intercept_service(lambda _details: plain, _CallDetails(path))
    behavior = handler.unary_unary or handler.stream_unary or handler.unary_stream or handler.stream_stream

    if method.server_streaming:

        def stream(request, context):
            try:
                yield from behavior(request, _Context(context))
            except _Aborted:
                return

        return stream

    def unary(request, context):
        try:
            return behavior(request, _Context(context))
        except _Aborted:
            return None

    return unary


class ServicerCalls:
    """Calls a servicer's RPCs through grpc_testing, as a client of a real server would see them."""

    def __init__(self, service: descriptor.ServiceDescriptor, servicer: object) -> None:
        self.service = service
        mapped = types.SimpleNamespace(**{method.name: _mapped(method, servicer) for method in service.methods})
        self.server = grpc_testing.server_from_dictionary({service: mapped}, grpc_testing.strict_real_time())

    def _method(self, name: str) -> descriptor.MethodDescriptor:
        return self.service.methods_by_name[name]

    def unary(self, name: str, request) -> Outcome:
        rpc = self.server.invoke_unary_unary(self._method(name), (), request, TIMEOUT)
        response, trailing_metadata, code, details = rpc.termination()
        return Outcome(response, code, details, trailing_metadata)

    def client_stream(self, name: str, requests: Iterable) -> Outcome:
        rpc = self.server.invoke_stream_unary(self._method(name), (), TIMEOUT)
        for request in requests:
            rpc.send_request(request)
        rpc.requests_closed()
        response, trailing_metadata, code, details = rpc.termination()
        return Outcome(response, code, details, trailing_metadata)

    def server_stream(self, name: str, request) -> tuple[list, Outcome]:
        """Every response the stream carried, then how it ended."""
        rpc = self.server.invoke_unary_stream(self._method(name), (), request, TIMEOUT)
        trailing_metadata, code, details = rpc.termination()
        responses = []
        while True:
            try:  # the stream has ended, so this never waits: it takes a queued response or says there is none
                responses.append(rpc.take_response())
            except ValueError:
                return responses, Outcome(None, code, details, trailing_metadata)
