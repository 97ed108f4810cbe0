"""Bearer-token authentication with per-token roles: the server interceptor (audiosearch.sdk.security sends the token).

Roles are ordered: read < write < admin, and a token of one role may call everything the roles below it may.
Health and reflection stay open, so probes and grpcurl `list` work without a token. Tokens are never logged:
only their role is, and they are kept as SHA-256 digests in memory.
"""

import contextlib
import hashlib
import hmac
import pathlib
from collections.abc import Iterable, Iterator

import grpc
from google.protobuf.descriptor import ServiceDescriptor

from audiosearch.runtime.interceptor import CallInterceptor
from audiosearch.sdk import errors, rpc_errors, services
from audiosearch.sdk.security import AUTHORIZATION_HEADER

ROLES = ("read", "write", "admin")
_RANK = {role: rank for rank, role in enumerate(ROLES)}


def _full_methods(service: ServiceDescriptor, *names: str) -> list[str]:
    """/package.Service/Method paths; a name the service does not have fails at import (KeyError), not silently."""
    return [f"/{service.full_name}/{service.methods_by_name[name].name}" for name in names]


# The role each RPC needs, by full method path, for the public API and the internal services alike.
# Anything not listed needs admin: a new RPC is closed until someone decides who may call it.
_METHODS_BY_ROLE: dict[str, list[str]] = {
    "read": [
        *_full_methods(
            services.GATEWAY, "ListModels", "ListCollections", "SearchAudio", "GetClip", "ListClips", "GetStats"
        ),
        *_full_methods(services.GATEWAY, "GetClipAudio"),
        *_full_methods(services.EMBEDDING, "ListModels", "EmbedAudio", "StreamEmbedAudio", "CutAudio"),
        *_full_methods(services.SEARCH, "Search", "Count", "GetVectors", "ListClipIds"),
        *_full_methods(services.SEARCH, "SearchSpeakers", "GetSpeakers"),
        *_full_methods(
            services.METADATA,
            "GetCollection",
            "ListCollections",
            "GetClip",
            "BatchGetClips",
            "ListClips",
            "FindByContentHash",
            "CountClips",
            "ReadClipAudio",
        ),
        *_full_methods(
            services.IMPORT_JOBS, "GetImportJob", "ListImportJobs", "WatchImportJob", "ListImportJobFailures"
        ),
        *_full_methods(services.IMPORT_JOB_RECORDS, "GetImportJob", "ListImportJobs", "ListImportJobFiles"),
        *_full_methods(services.SPEAKERS, "GetSpeaker", "ListSpeakers", "IdentifySpeaker", "VerifySpeaker"),
    ],
    "write": [
        *_full_methods(services.GATEWAY, "IngestAudio", "ImportDirectory", "DeleteClip"),
        *_full_methods(services.SPEAKERS, "EnrollSpeaker", "DeleteSpeaker"),
        *_full_methods(services.SEARCH, "Upsert", "Delete"),
        *_full_methods(services.SEARCH, "UpsertSpeakers", "DeleteSpeakers"),
        *_full_methods(
            services.METADATA, "CreateClip", "UpdateClipState", "DeleteClip", "PutClipAudio", "BatchPutClipAudio"
        ),
        *_full_methods(services.IMPORT_JOBS, "CreateImportJob", "CancelImportJob"),
        *_full_methods(
            services.IMPORT_JOB_RECORDS,
            "CreateImportJob",
            "CancelImportJob",
            "ClaimImportJob",
            "RenewImportJobLease",
            "AddImportJobFiles",
            "CreateImportClips",
            "CompleteImportFiles",
            "FinishImportJob",
        ),
    ],
    "admin": [
        *_full_methods(services.GATEWAY, "CreateCollection", "DropCollection", "Reconcile", "CalibrateRecordings"),
        *_full_methods(services.SPEAKERS, "CalibrateSpeakers"),
        *_full_methods(services.SEARCH, "EnsureCollection", "DropCollection", "SwitchCollection"),
        *_full_methods(services.IMPORT_JOBS, "RebuildCollection"),
        *_full_methods(
            services.METADATA, "CreateCollection", "DeleteCollection", "SetCalibration", "RemoveOrphanAudio"
        ),
    ],
}
METHOD_ROLES: dict[str, str] = {method: role for role, methods in _METHODS_BY_ROLE.items() for method in methods}


def required_role(method: str) -> str:
    """The role a full method name (/package.Service/Method) needs."""
    return METHOD_ROLES.get(method, "admin")


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


class AuthInterceptor(CallInterceptor):
    """UNAUTHENTICATED without a valid token, PERMISSION_DENIED when its role is too low; health/reflection open."""

    def __init__(self, table: TokenTable) -> None:
        self.table = table

    @contextlib.contextmanager
    def around(self, method: str, servicer_context: grpc.ServicerContext) -> Iterator[None]:
        try:
            check(self.table, method, servicer_context.invocation_metadata())
        except errors.AudioSearchError as error:
            # Refused before the servicer runs (the request stream is never read); abort raises.
            servicer_context.abort_with_status(rpc_errors.to_status(error))
        yield
