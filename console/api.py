"""The HTTP/JSON mapping of the gateway's public gRPC API: one generic handler, driven by the service descriptors.

    POST /v1/<Service>/<Method>   JSON body = the request message (proto field names; bytes as base64)
                                  multipart/form-data: part `request` = that JSON, then a file part per bytes field
                                  (`audio`); for a client stream (IngestAudio, EnrollSpeaker) part `request` is
                                  its options message and part `audio` is streamed as chunks
    -> unary: the response message as JSON; server stream: NDJSON, one message per line
    GET /v1/collections/<name>/clips/<id>/audio[?start_seconds=&end_seconds=]   GetClipAudio as a file, with Range

A gRPC error becomes its HTTP status and a JSON body in Google's HTTP error shape, with the ErrorInfo reason:
    {"error": {"code": 404, "status": "NOT_FOUND", "message": "...",
               "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "...", ...}]}}
The browser's `Authorization` header is forwarded as gRPC metadata; the console keeps no token.
"""

import dataclasses
import json
import logging
from collections.abc import AsyncIterator

import grpc
from aiohttp import BodyPartReader, web
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message

from audiosearch.gateway.v1 import gateway_service_pb2
from audiosearch.sdk import rpc_errors, services
from audiosearch.sdk.security import AUTHORIZATION_HEADER
from audiosearch.sdk.upload import MAX_CHUNK_BYTES
from console.config import ConsoleSettings

log = logging.getLogger("audiosearch.console")

# gRPC code -> HTTP status, as grpc-gateway and Google's HTTP APIs map them.
HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}
ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"
NDJSON = "application/x-ndjson"
GET_CLIP_AUDIO = services.GATEWAY.methods_by_name["GetClipAudio"]


class HttpError(Exception):
    """A request the console refuses before calling the gateway, with the gRPC code it would have had."""

    def __init__(self, code: grpc.StatusCode, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def error_body(code: grpc.StatusCode, message: str, reason: str, domain: str, metadata: dict[str, str]) -> dict:
    info = {"@type": ERROR_INFO_TYPE, "reason": reason, "domain": domain, "metadata": metadata}
    return {"error": {"code": HTTP_STATUS[code], "status": code.name, "message": message, "details": [info]}}


def rpc_error_body(error: grpc.RpcError) -> tuple[int, dict]:
    """(HTTP status, JSON error) of a failed gateway call, with its ErrorInfo when the gateway sent one."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = error.details() if hasattr(error, "details") else str(error)
    info = rpc_errors.error_info(error)
    if info is None:  # the gateway itself could not be reached: say so, as the SDK does
        body = error_body(code, f"gateway: {message}", f"PEER_{code.name}", "audiosearch.console", {})
    else:
        body = error_body(code, message, info.reason, info.domain, dict(info.metadata))
    return HTTP_STATUS[code], body


def error_response(error: grpc.RpcError | HttpError) -> web.Response:
    if isinstance(error, HttpError):
        status = HTTP_STATUS[error.code]
        body = error_body(error.code, error.message, error.reason, "audiosearch.console", {})
    else:
        status, body = rpc_error_body(error)
    return web.json_response(body, status=status)


@dataclasses.dataclass(frozen=True)
class Route:
    """One public RPC as the mapping calls it: its path, message classes and streaming shape."""

    method: MethodDescriptor
    request: type[Message]
    response: type[Message]

    @property
    def path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    def upload_fields(self) -> tuple[str, str]:
        """A client stream's (options field, bytes field): its request's oneof of one message and one bytes."""
        fields = self.method.input_type.fields
        options = next(f.name for f in fields if f.type == FieldDescriptor.TYPE_MESSAGE)
        chunk = next(f.name for f in fields if f.type == FieldDescriptor.TYPE_BYTES)
        return options, chunk


ROUTES = {
    (service.name, method.name): Route(
        method, message_factory.GetMessageClass(method.input_type), message_factory.GetMessageClass(method.output_type)
    )
    for service in services.PUBLIC
    for method in service.methods
}


def to_json(message: Message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def parse(payload: bytes | str, cls: type[Message]) -> Message:
    try:
        return json_format.Parse(payload or "{}", cls())
    except (json_format.ParseError, ValueError, RecursionError) as error:  # not JSON, not UTF-8, nested too deep
        raise HttpError(
            grpc.StatusCode.INVALID_ARGUMENT, "BAD_JSON", f"the body is not a {cls.DESCRIPTOR.name} in JSON: {error}"
        ) from None


def metadata(request: web.Request) -> tuple[tuple[str, str], ...]:
    """The browser's bearer token, passed on as it came; nothing is kept."""
    token = request.headers.get("Authorization", "")
    return ((AUTHORIZATION_HEADER, token),) if token else ()


class Api:
    """The aiohttp handlers of the mapping, over one grpc.aio channel to the gateway."""

    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self.channel: grpc.aio.Channel  # set when the app starts (console.server.build_app)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1", self.describe),
            web.post("/v1/{service}/{method}", self.call),
            web.get("/v1/collections/{collection}/clips/{clip_id}/audio", self.audio),
        ]

    async def describe(self, request: web.Request) -> web.Response:
        """The RPCs this mapping serves, with their streaming shape (what the docs and the page rely on)."""
        methods = [
            {
                "path": f"/v1/{service}/{name}",
                "rpc": route.path,
                "client_streaming": route.method.client_streaming,
                "server_streaming": route.method.server_streaming,
            }
            for (service, name), route in ROUTES.items()
        ]
        return web.json_response({"methods": methods})

    async def call(self, request: web.Request) -> web.StreamResponse:
        route = ROUTES.get((request.match_info["service"], request.match_info["method"]))
        try:
            if route is None:
                raise HttpError(
                    grpc.StatusCode.NOT_FOUND,
                    "UNKNOWN_METHOD",
                    f"no public RPC {request.match_info['service']}/{request.match_info['method']}; GET /v1 lists them",
                )
            if route.method.client_streaming:
                return await self._upload(request, route)
            message = await self._request_message(request, route)
            if route.method.server_streaming:
                return await self._ndjson(request, route, message)
            response = await self._rpc(route)(
                message, timeout=self.settings.call_timeout_seconds, metadata=metadata(request)
            )
            return web.json_response(to_json(response))
        except (grpc.RpcError, HttpError) as error:
            return error_response(error)

    async def _request_message(self, request: web.Request, route: Route) -> Message:
        """The request from a JSON body, or from a multipart form: `request` (JSON) and a part per bytes field."""
        if not request.content_type.startswith("multipart/"):
            return parse(await self._read(request.content.read, "the body"), route.request)
        reader = await request.multipart()
        message = route.request()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise HttpError(grpc.StatusCode.INVALID_ARGUMENT, "BAD_FORM", "nested multipart bodies are not read")
            content = await self._read(part.read_chunk, f"part {part.name!r}")
            if part.name == "request":
                message.MergeFrom(parse(content, route.request))
                continue
            field = route.method.input_type.fields_by_name.get(part.name or "")
            if field is None or field.type != FieldDescriptor.TYPE_BYTES:
                raise HttpError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "BAD_FORM",
                    f"{route.method.name} has no bytes field {part.name!r}: send `request` (JSON) and the file parts",
                )
            setattr(message, field.name, content)
        return message

    async def _read(self, read_chunk, what: str) -> bytes:
        """All of a body or part, refused past max_request_bytes (streamed uploads are not bounded here)."""
        limit = self.settings.max_request_bytes
        content = bytearray()
        while chunk := await read_chunk(MAX_CHUNK_BYTES):
            content += chunk
            if len(content) > limit:
                raise HttpError(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    "REQUEST_TOO_LARGE",
                    f"{what} is over {limit} bytes (AUDIOSEARCH_CONSOLE_MAX_REQUEST_BYTES); upload large audio with "
                    "IngestAudio, which streams",
                )
        return bytes(content)

    async def _upload(self, request: web.Request, route: Route) -> web.Response:
        """A client stream from a multipart form: part `request` (the options, JSON) first, then the file, streamed."""
        options_field, chunk_field = route.upload_fields()
        options_class = message_factory.GetMessageClass(
            route.method.input_type.fields_by_name[options_field].message_type
        )
        if not request.content_type.startswith("multipart/"):
            raise HttpError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "BAD_FORM",
                f"{route.method.name} takes multipart/form-data: part `request` (its options as JSON), then `audio`",
            )
        reader = await request.multipart()
        first = await reader.next()
        if not isinstance(first, BodyPartReader) or first.name != "request":
            raise HttpError(
                grpc.StatusCode.INVALID_ARGUMENT, "BAD_FORM", "the first part must be `request` (the options as JSON)"
            )
        options = parse(await self._read(first.read_chunk, "part 'request'"), options_class)
        audio = await reader.next()
        if not isinstance(audio, BodyPartReader):
            raise HttpError(grpc.StatusCode.INVALID_ARGUMENT, "BAD_FORM", "a file part (`audio`) must follow `request`")

        async def messages() -> AsyncIterator[Message]:
            yield route.request(**{options_field: options})
            while chunk := await audio.read_chunk(MAX_CHUNK_BYTES):
                yield route.request(**{chunk_field: chunk})

        response = await self._rpc(route)(
            messages(), timeout=self.settings.call_timeout_seconds, metadata=metadata(request)
        )
        return web.json_response(to_json(response))

    def _rpc(self, route: Route):
        """The channel's callable of the route's shape: unary_unary, stream_unary or unary_stream."""
        method = route.method
        shape = f"{'stream' if method.client_streaming else 'unary'}_{'stream' if method.server_streaming else 'unary'}"
        return getattr(self.channel, shape)(
            route.path,
            request_serializer=route.request.SerializeToString,
            response_deserializer=route.response.FromString,
        )

    def _stream(self, request: web.Request, route: Route, message: Message):
        return self._rpc(route)(message, timeout=self.settings.stream_timeout_seconds, metadata=metadata(request))

    async def _ndjson(self, request: web.Request, route: Route, message: Message) -> web.StreamResponse:
        """A server stream as NDJSON. Errors before the first message get their HTTP status; a later one ends the
        body with a last line {"error": ...} (the status line is sent by then)."""
        call = self._stream(request, route, message)
        try:
            first = await call.read()
            response = web.StreamResponse(headers={"Content-Type": NDJSON, "Cache-Control": "no-store"})
            await response.prepare(request)
            try:
                item = first
                while item is not grpc.aio.EOF:
                    await response.write(json.dumps(to_json(item)).encode() + b"\n")
                    item = await call.read()
            except grpc.RpcError as error:
                await response.write(json.dumps(rpc_error_body(error)[1]).encode() + b"\n")
            await response.write_eof()
            return response
        finally:
            call.cancel()  # a browser that leaves mid-stream ends the gateway call too

    async def audio(self, request: web.Request) -> web.StreamResponse:
        """GetClipAudio as a file an <audio> element can play and seek: Content-Type and Content-Length from the
        first message, and one byte range (206) when the request asks for it."""
        route = ROUTES[(services.GATEWAY.name, GET_CLIP_AUDIO.name)]
        try:
            message = self._audio_request(request)
            byte_range = self._byte_range(request)
            call = self._stream(request, route, message)
            try:
                return await self._send_audio(request, call, byte_range)
            finally:
                call.cancel()
        except (grpc.RpcError, HttpError) as error:
            return error_response(error)

    @staticmethod
    def _audio_request(request: web.Request) -> gateway_service_pb2.GetClipAudioRequest:
        clip_id = request.match_info["clip_id"]
        if not clip_id.isdigit():
            raise HttpError(grpc.StatusCode.INVALID_ARGUMENT, "BAD_CLIP_ID", f"clip id {clip_id!r} is not a number")
        message = gateway_service_pb2.GetClipAudioRequest(
            collection=request.match_info["collection"], clip_id=int(clip_id)
        )
        for name in ("start_seconds", "end_seconds"):
            if name in request.query:
                try:
                    setattr(message, name, float(request.query[name]))
                except ValueError:
                    raise HttpError(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        "BAD_TIME_RANGE",
                        f"{name}={request.query[name]!r} is not a number",
                    ) from None
        return message

    @staticmethod
    def _byte_range(request: web.Request) -> slice:
        try:
            return request.http_range
        except ValueError:
            raise HttpError(
                grpc.StatusCode.OUT_OF_RANGE,
                "BAD_RANGE",
                f"Range {request.headers.get('Range')!r} is not one byte range",
            ) from None

    async def _send_audio(self, request: web.Request, call, byte_range: slice) -> web.StreamResponse:
        first = await call.read()
        if first is grpc.aio.EOF or not first.HasField("blob"):
            raise HttpError(grpc.StatusCode.INTERNAL, "NO_AUDIO_FACTS", "GetClipAudio sent no audio facts first")
        blob = first.blob
        size = blob.size_bytes
        start, stop = _resolve(byte_range, size)
        if start >= size and size > 0 or start > stop:
            return web.Response(status=416, headers={"Content-Range": f"bytes */{size}"})
        headers = {
            "Content-Type": blob.content_type or "application/octet-stream",
            "Accept-Ranges": "bytes",
            "Content-Length": str(stop - start),
            "Cache-Control": "private, max-age=60",
            "X-Audio-Sha256": blob.sha256,
            "X-Audio-Start-Seconds": f"{blob.start_seconds:g}",
            "X-Audio-End-Seconds": f"{blob.end_seconds:g}",
        }
        partial = (byte_range.start is not None or byte_range.stop is not None) and size > 0
        if partial:
            headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
        response = web.StreamResponse(status=206 if partial else 200, headers=headers)
        await response.prepare(request)
        offset = 0  # of the next chunk in the file
        try:
            while offset < stop and (item := await call.read()) is not grpc.aio.EOF:
                chunk = item.chunk
                lo, hi = max(start - offset, 0), min(stop - offset, len(chunk))
                if lo < hi:
                    await response.write(chunk[lo:hi])
                offset += len(chunk)
        except grpc.RpcError as error:
            # The status line is sent: end the connection short of Content-Length, so the player sees a failure.
            log.warning("GetClipAudio failed mid-stream: %s %s", error.code().name, error.details())
            response.force_close()
            return response
        await response.write_eof()
        return response


def _resolve(byte_range: slice, size: int) -> tuple[int, int]:
    """[start, stop) of a parsed Range (aiohttp's slice: bytes=a-b, a-, or -n for the last n) in a file of `size`."""
    start, stop = byte_range.start, byte_range.stop
    if start is None and stop is None:
        return 0, size
    if start is not None and start < 0:  # suffix range: the last -start bytes
        return max(size + start, 0), size
    return start or 0, size if stop is None else min(stop, size)
