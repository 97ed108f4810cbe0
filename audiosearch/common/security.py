"""TLS, mutual TLS and token auth by configuration, for servers (every service) and channels (clients, gateway).

Server side, read from AUDIOSEARCH_<SERVICE>_* like the rest of a service's settings:
    AUTH_TOKENS        comma-separated `role:token` (roles: read, write, admin)
    AUTH_TOKENS_FILE   a file of `role token` lines
    TLS_CERT_FILE / TLS_KEY_FILE   serve TLS with this certificate chain and key
    TLS_CLIENT_CA_FILE             mutual TLS: require client certificates signed by this CA
Channel side (the gateway's peers, AUDIOSEARCH_GATEWAY_PEER_*): TOKEN or TOKEN_FILE, TLS_CA_FILE, TLS_CERT_FILE,
TLS_KEY_FILE, TLS_SERVER_NAME.
"""

import logging
import pathlib
from dataclasses import dataclass, field

import grpc

from audiosearch.common import errors
from audiosearch.common.auth import AuthInterceptor, BearerTokenInterceptor, TokenTable
from audiosearch.common.settings import SettingsError, load_settings

log = logging.getLogger("audiosearch.security")


def _read(path: str, what: str) -> bytes:
    try:
        return pathlib.Path(path).read_bytes()
    except OSError as error:
        raise SettingsError(f"cannot read the {what} {path!r}: {error.strerror}") from None


@dataclass(frozen=True)
class ServerSecurity:
    auth_tokens: tuple[str, ...] = field(
        default=(), metadata={"doc": "comma-separated `role:token` (read, write, admin); set, every RPC needs a token"}
    )
    auth_tokens_file: str = field(default="", metadata={"doc": "file of `role token` lines (same effect as above)"})
    tls_cert_file: str = field(default="", metadata={"doc": "PEM certificate chain; with the key, the port is TLS"})
    tls_key_file: str = field(default="", metadata={"doc": "PEM private key of that certificate"})
    tls_client_ca_file: str = field(
        default="", metadata={"doc": "PEM CA; set, clients must present a certificate it signed (mutual TLS)"}
    )

    def token_table(self) -> TokenTable:
        try:
            return TokenTable.load(self.auth_tokens, self.auth_tokens_file)
        except errors.AudioSearchError as error:
            raise SettingsError(f"auth tokens: {error.message}") from None
        except OSError as error:
            raise SettingsError(f"cannot read the tokens file {self.auth_tokens_file!r}: {error.strerror}") from None

    def interceptors(self) -> list[grpc.ServerInterceptor]:
        table = self.token_table()
        if table:
            log.info("token auth on (%d tokens)", len(table))  # never the tokens themselves
            return [AuthInterceptor(table)]
        return []

    @property
    def tls(self) -> bool:
        return bool(self.tls_cert_file or self.tls_key_file)

    def server_credentials(self) -> grpc.ServerCredentials:
        if not (self.tls_cert_file and self.tls_key_file):
            raise SettingsError("TLS needs both TLS_CERT_FILE and TLS_KEY_FILE")
        chain = _read(self.tls_cert_file, "TLS certificate")
        key = _read(self.tls_key_file, "TLS key")
        client_ca = _read(self.tls_client_ca_file, "client CA") if self.tls_client_ca_file else None
        return grpc.ssl_server_credentials(
            [(key, chain)], root_certificates=client_ca, require_client_auth=client_ca is not None
        )

    def bind(self, server: grpc.Server, address: str) -> int:
        """Add the listening port: TLS (mutual when a client CA is set) or plaintext. 0 when binding failed."""
        if self.tls:
            return server.add_secure_port(address, self.server_credentials())
        if self.tls_client_ca_file:
            raise SettingsError("TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE too")
        return server.add_insecure_port(address)


def load_server_security(prefix: str) -> ServerSecurity:
    """The server security settings of the service whose env prefix is `prefix` (AUDIOSEARCH_GATEWAY_ ...)."""
    return load_settings(ServerSecurity, prefix)


def env_prefix(service_name: str) -> str:
    """audiosearch.gateway.v1.GatewayService -> AUDIOSEARCH_GATEWAY_ (the prefix of that service's settings)."""
    parts = service_name.split(".")
    return f"AUDIOSEARCH_{parts[1].upper()}_" if len(parts) > 2 and parts[0] == "audiosearch" else ""


def security_from_env(service_names: list[str]) -> ServerSecurity:
    """The ServerSecurity of the (first) audiosearch service served; none configured means plaintext, no auth."""
    prefixes = [prefix for prefix in map(env_prefix, service_names) if prefix]
    return load_server_security(prefixes[0]) if prefixes else ServerSecurity()


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
            lines = _read(self.token_file, "token file").decode().strip().splitlines()
            return lines[0].strip() if lines else ""
        return ""

    def credentials(self) -> grpc.ChannelCredentials:
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise SettingsError("a client certificate needs both TLS_CERT_FILE and TLS_KEY_FILE")
        return grpc.ssl_channel_credentials(
            root_certificates=_read(self.tls_ca_file, "TLS CA") if self.tls_ca_file else None,
            private_key=_read(self.tls_key_file, "TLS client key") if self.tls_key_file else None,
            certificate_chain=_read(self.tls_cert_file, "TLS client certificate") if self.tls_cert_file else None,
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


def load_channel_security(prefix: str) -> ChannelSecurity:
    """Peer channel settings from env vars `prefix` + FIELD (e.g. AUDIOSEARCH_GATEWAY_PEER_TOKEN)."""
    return load_settings(ChannelSecurity, prefix)
