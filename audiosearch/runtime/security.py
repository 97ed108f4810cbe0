"""TLS, mutual TLS and token auth by configuration: the server side, and channel settings read from the env.

Server side, read once at start from AUDIOSEARCH_<SERVICE>_* with the rest of a service's settings (its config.py)
and passed to create_server:
    AUTH_TOKENS        comma-separated `role:token` (roles: read, write, admin)
    AUTH_TOKENS_FILE   a file of `role token` lines
    TLS_CERT_FILE / TLS_KEY_FILE   serve TLS with this certificate chain and key
    TLS_CLIENT_CA_FILE             mutual TLS: require client certificates signed by this CA
Channel side (the gateway's peers, AUDIOSEARCH_GATEWAY_PEER_*): TOKEN or TOKEN_FILE, TLS_CA_FILE, TLS_CERT_FILE,
TLS_KEY_FILE, TLS_SERVER_NAME; the channel itself is audiosearch.sdk.security.ChannelSecurity.
"""

import logging
from dataclasses import dataclass, field

import grpc

from audiosearch.runtime.auth import AuthInterceptor, TokenTable
from audiosearch.runtime.settings import load_settings
from audiosearch.sdk import errors
from audiosearch.sdk.errors import SettingsError
from audiosearch.sdk.security import ChannelSecurity, read_file

log = logging.getLogger("audiosearch.security")


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
        chain = read_file(self.tls_cert_file, "TLS certificate")
        key = read_file(self.tls_key_file, "TLS key")
        client_ca = read_file(self.tls_client_ca_file, "client CA") if self.tls_client_ca_file else None
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


def load_channel_security(prefix: str) -> ChannelSecurity:
    """Peer channel settings from env vars `prefix` + FIELD (e.g. AUDIOSEARCH_GATEWAY_PEER_TOKEN)."""
    return load_settings(ChannelSecurity, prefix)
