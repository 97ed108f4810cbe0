"""Bearer-token authentication with per-token roles: the server interceptor (audiosearch.sdk.security sends the token).

Roles are ordered: read < write < admin, and a token of one role may call everything the roles below it may.
Health and reflection stay open, so probes and grpcurl `list` work without a token. Tokens are never logged:
only their role is, and they are kept as SHA-256 digests in memory.
"""

import hashlib
import hmac
import pathlib
from collections.abc import Iterable

import grpc

from audiosearch.sdk import errors, rpc_errors
from audiosearch.sdk.security import AUTHORIZATION_HEADER

ROLES = ("read", "write", "admin")
_RANK = {role: rank for rank, role in enumerate(ROLES)}

# The role each RPC needs, by method name, for the public API and the internal services alike.
# Anything not listed needs admin: a new RPC is closed until someone decides who may call it.
METHOD_ROLES: dict[str, str] = {
    # gateway (public API)
    "ListModels": "read",
    "ListCollections": "read",
    "SearchAudio": "read",
    "GetClip": "read",
    "ListClips": "read",
    "GetStats": "read",
    "IngestAudio": "write",
    "ImportDirectory": "write",
    "DeleteClip": "write",
    "CreateCollection": "admin",
    "DropCollection": "admin",
    "Reconcile": "admin",
    # embedding service
    "EmbedAudio": "read",
    "StreamEmbedAudio": "read",
    # search service
    "Search": "read",
    "Count": "read",
    "GetVectors": "read",
    "ListClipIds": "read",
    "Upsert": "write",
    "Delete": "write",
    "EnsureCollection": "admin",
    # metadata service
    "GetCollection": "read",
    "BatchGetClips": "read",
    "FindByContentHash": "read",
    "CountClips": "read",
    "CreateClip": "write",
    "UpdateClipState": "write",
    "DeleteCollection": "admin",
}
_OPEN_PREFIXES = ("/grpc.health.", "/grpc.reflection.")


def required_role(method: str) -> str:
    """The role a full method name (/package.Service/Method) needs."""
    return METHOD_ROLES.get(method.rsplit("/", 1)[-1], "admin")


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class TokenTable:
    """Token -> role, kept as digests. Empty means authentication is off."""

    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        self._roles: list[tuple[bytes, str]] = []
        for role, token in entries:
            if role not in _RANK:
                raise errors.InvalidArgument(f"unknown role {role!r}; use one of {', '.join(ROLES)}", "BAD_AUTH_ROLE")
            if not token:
                raise errors.InvalidArgument(f"an empty token for role {role}", "BAD_AUTH_TOKEN")
            self._roles.append((_digest(token), role))

    def __bool__(self) -> bool:
        return bool(self._roles)

    def __len__(self) -> int:
        return len(self._roles)

    def role_of(self, token: str) -> str | None:
        presented = _digest(token)
        found = None
        for digest, role in self._roles:  # every entry compared in constant time: no early exit on a match
            if hmac.compare_digest(digest, presented):
                found = role
        return found

    @classmethod
    def parse(cls, inline: Iterable[str] = (), file_text: str = "") -> "TokenTable":
        """From `role:token` items (env) and `role token` lines (file; # comments and blank lines skipped)."""
        entries = []
        for item in inline:
            role, sep, token = item.strip().partition(":")
            if not sep:
                raise errors.InvalidArgument("auth tokens are `role:token`, comma-separated", "BAD_AUTH_TOKEN")
            entries.append((role.strip(), token.strip()))
        for number, line in enumerate(file_text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 2:
                raise errors.InvalidArgument(f"line {number} of the tokens file is not `role token`", "BAD_AUTH_TOKEN")
            entries.append((parts[0], parts[1]))
        return cls(entries)

    @classmethod
    def load(cls, inline: Iterable[str] = (), path: str = "") -> "TokenTable":
        text = pathlib.Path(path).read_text() if path else ""
        return cls.parse(inline, text)


def bearer_token(metadata: Iterable[tuple[str, str]] | None) -> str:
    """The token of an `authorization: Bearer <token>` header, or ''."""
    for key, value in metadata or ():
        if key == AUTHORIZATION_HEADER and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer":
                return token.strip()
    return ""


def check(table: TokenTable, method: str, metadata) -> None:
    """Raise Unauthenticated or PermissionDenied unless the call's token may call `method`."""
    token = bearer_token(metadata)
    if not token:
        raise errors.Unauthenticated(
            "this server requires a token: send the header `authorization: Bearer <token>`", "TOKEN_MISSING"
        )
    role = table.role_of(token)
    if role is None:
        raise errors.Unauthenticated("the token is not valid here; check it with the operator", "TOKEN_INVALID")
    needed = required_role(method)
    if _RANK[role] < _RANK[needed]:
        raise errors.PermissionDenied(
            f"{method.rsplit('/', 1)[-1]} needs a {needed} token; this token's role is {role}",
            "ROLE_INSUFFICIENT",
            needed=needed,
            role=role,
        )


def _denier(handler, error: errors.AudioSearchError):
    status = rpc_errors.to_status(error)

    def deny(request_or_iterator, servicer_context):
        servicer_context.abort_with_status(status)

    common = {"request_deserializer": handler.request_deserializer, "response_serializer": handler.response_serializer}
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(deny, **common)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(deny, **common)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(deny, **common)
    return grpc.stream_stream_rpc_method_handler(deny, **common)


class AuthInterceptor(grpc.ServerInterceptor):
    """UNAUTHENTICATED without a valid token, PERMISSION_DENIED when its role is too low; health/reflection open."""

    def __init__(self, table: TokenTable) -> None:
        self.table = table

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(_OPEN_PREFIXES):
            return handler
        try:
            check(self.table, method, handler_call_details.invocation_metadata)
        except errors.AudioSearchError as error:
            return _denier(handler, error)
        return handler
