"""Console settings, read once from AUDIOSEARCH_CONSOLE_* env vars.

No token is configured here: each browser sends its own (`Authorization: Bearer`), forwarded per call.
"""

from dataclasses import dataclass, field

from audiosearch.runtime.settings import load_settings
from audiosearch.sdk.errors import SettingsError
from audiosearch.sdk.security import ChannelSecurity

PREFIX = "AUDIOSEARCH_CONSOLE_"
MIB = 1024 * 1024


@dataclass(frozen=True)
class ConsoleSettings:
    gateway_address: str = field(default="127.0.0.1:50051", metadata={"doc": "the gateway's public API (host:port)"})
    listen: str = field(default="127.0.0.1:8080", metadata={"doc": "HTTP host:port of the console; port 0 picks one"})
    tls: bool = field(default=False, metadata={"doc": "dial the gateway over TLS (implied by any TLS file below)"})
    tls_ca_file: str = field(default="", metadata={"doc": "PEM CA that signed the gateway's certificate"})
    tls_cert_file: str = field(default="", metadata={"doc": "PEM client certificate, for a gateway that needs mTLS"})
    tls_key_file: str = field(default="", metadata={"doc": "PEM key of the client certificate"})
    tls_server_name: str = field(default="", metadata={"doc": "name to check the gateway's certificate against"})
    call_timeout_seconds: float = field(default=300.0, metadata={"doc": "deadline of each unary call to the gateway"})
    stream_timeout_seconds: float = field(
        default=3600.0, metadata={"doc": "deadline of streams (import progress, job watch, audio)"}
    )
    max_request_bytes: int = field(
        default=64 * MIB, metadata={"doc": "largest JSON body or audio part of a unary call (uploads stream)"}
    )
    log_level: str = field(default="INFO", metadata={"doc": "DEBUG logs every request"})

    def __post_init__(self) -> None:
        self.host_port  # noqa: B018 (fails fast at start-up on a listen address it cannot bind)

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        if not host or not port.isdigit():
            raise SettingsError(f"{PREFIX}LISTEN={self.listen!r} must be host:port (e.g. 127.0.0.1:8080)")
        return host.strip("[]"), int(port)

    @property
    def security(self) -> ChannelSecurity:
        return ChannelSecurity(
            tls=self.tls,
            tls_ca_file=self.tls_ca_file,
            tls_cert_file=self.tls_cert_file,
            tls_key_file=self.tls_key_file,
            tls_server_name=self.tls_server_name,
        )


def load() -> ConsoleSettings:
    return load_settings(ConsoleSettings, PREFIX)
