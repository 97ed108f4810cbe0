"""The client side of security: TLS, mutual TLS and a bearer token on a channel (ChannelSecurity).

Servers read their half (ServerSecurity, token roles) in audiosearch.runtime.security and audiosearch.runtime.auth.
"""

import pathlib
from dataclasses import dataclass, field

import grpc

from audiosearch.sdk.errors import SettingsError

AUTHORIZATION_HEADER = "authorization"


def read_file(path: str, what: str) -> bytes:
    """The bytes of a certificate, key or token file; SettingsError naming `what` when it cannot be read."""
    try:
        return pathlib.Path(path).read_bytes()
    except OSError as error:
        raise SettingsError(f"cannot read the {what} {path!r}: {error.strerror}") from None


class _ClientCallDetails(grpc.ClientCallDetails):
    def __init__(self, details, metadata) -> None:
        self.method = details.method
        self.timeout = details.timeout
        self.metadata = metadata
        self.credentials = details.credentials
        self.wait_for_ready = details.wait_for_ready
        self.compression = getattr(details, "compression", None)


class BearerTokenInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds `authorization: Bearer <token>` to every call (plaintext or TLS; call credentials need TLS)."""

    def __init__(self, token: str) -> None:
        self._header = (AUTHORIZATION_HEADER, f"Bearer {token}")

    def _details(self, details):
        return _ClientCallDetails(details, [*(details.metadata or ()), self._header])

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation, details, request_iterator):
        return continuation(self._details(details), request_iterator)

    def intercept_stream_stream(self, continuation, details, request_iterator):
        return continuation(self._details(details), request_iterator)


@dataclass(frozen=True)
class ChannelSecurity:
    """How a client reaches a server: a bearer token, TLS (trusting `tls_ca_file`, or the system roots when TLS is
    on without one), and a client certificate for mutual TLS."""

    token: str = field(default="", metadata={"doc": "bearer token sent to the peers (internal token)"})
    token_file: str = field(default="", metadata={"doc": "file holding that token (first line)"})
    tls: bool = field(default=False, metadata={"doc": "dial the peers over TLS (implied by any TLS file below)"})
    tls_ca_file: str = field(default="", metadata={"doc": "PEM CA that signed the peers' certificates"})
    tls_cert_file: str = field(default="", metadata={"doc": "PEM client certificate, for peers that require mTLS"})
    tls_key_file: str = field(default="", metadata={"doc": "PEM key of the client certificate"})
    tls_server_name: str = field(default="", metadata={"doc": "name to check the peers' certificates against"})

    @property
    def uses_tls(self) -> bool:
        return self.tls or bool(self.tls_ca_file or self.tls_cert_file or self.tls_key_file)

    def bearer(self) -> str:
        if self.token:
            return self.token
        if self.token_file:
            lines = read_file(self.token_file, "token file").decode().strip().splitlines()
            return lines[0].strip() if lines else ""
        return ""

    def credentials(self) -> grpc.ChannelCredentials:
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise SettingsError("a client certificate needs both TLS_CERT_FILE and TLS_KEY_FILE")
        return grpc.ssl_channel_credentials(
            root_certificates=read_file(self.tls_ca_file, "TLS CA") if self.tls_ca_file else None,
            private_key=read_file(self.tls_key_file, "TLS client key") if self.tls_key_file else None,
            certificate_chain=read_file(self.tls_cert_file, "TLS client certificate") if self.tls_cert_file else None,
        )

    def secure(self, address: str, options: list[tuple[str, object]]) -> grpc.Channel:
        """A channel to `address` with this TLS and token (plaintext without TLS)."""
        if self.uses_tls:
            if self.tls_server_name:
                options = [*options, ("grpc.ssl_target_name_override", self.tls_server_name)]
            channel = grpc.secure_channel(address, self.credentials(), options=options)
        else:
            channel = grpc.insecure_channel(address, options=options)
        token = self.bearer()
        return grpc.intercept_channel(channel, BearerTokenInterceptor(token)) if token else channel
