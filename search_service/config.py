"""Search service settings, read once from AUDIOSEARCH_SEARCH_* env vars."""

from dataclasses import dataclass, field

from audiosearch.runtime.settings import load_settings

PREFIX = "AUDIOSEARCH_SEARCH_"
MIB = 1024 * 1024


@dataclass(frozen=True)
class SearchSettings:
    listen: str = field(default="127.0.0.1:50053", metadata={"doc": "address the search service binds"})
    milvus_uri: str = field(
        default="data/vectors.db",
        metadata={"doc": "a .db file path opens Milvus Lite (one process per file); http(s)://host:19530 a server"},
    )
    milvus_token: str = field(default="", metadata={"doc": "Milvus token (user:password or API key); empty for none"})
    milvus_user: str = field(default="", metadata={"doc": "Milvus user (with milvus_password; instead of a token)"})
    milvus_password: str = field(default="", metadata={"doc": "Milvus password of milvus_user"})
    milvus_db: str = field(default="", metadata={"doc": "Milvus database; empty for the default one"})
    milvus_ca_pem_path: str = field(
        default="", metadata={"doc": "CA certificate (PEM) that signed the Milvus server's; turns TLS on"}
    )
    milvus_client_pem_path: str = field(
        default="", metadata={"doc": "client certificate (PEM) for mutual TLS, with the key and the CA"}
    )
    milvus_client_key_path: str = field(default="", metadata={"doc": "client private key (PEM) for mutual TLS"})
    milvus_server_name: str = field(
        default="", metadata={"doc": "name to check in the server's TLS certificate, when not the URI's host"}
    )
    milvus_timeout_seconds: float = field(
        default=30.0, metadata={"doc": "deadline of each Milvus call (capped by the caller's deadline)"}
    )
    collection_prefix: str = field(
        default="audiosearch_", metadata={"doc": "prefix of Milvus collection names, so deployments can share one"}
    )
    consistency_level: str = field(
        default="Session",
        metadata={
            "doc": "Milvus consistency: Session (this process reads its own writes, so a clip is searchable once "
            "ingest returns); Strong costs one time tick (~200 ms) per search"
        },
    )
    max_message_bytes: int = field(default=64 * MIB, metadata={"doc": "gRPC max message size, in and out"})
    max_workers: int = field(default=16, metadata={"doc": "concurrent RPC threads"})
    grace_seconds: float = field(default=5.0, metadata={"doc": "time in-flight calls get on SIGTERM"})
    log_level: str = field(default="INFO", metadata={"doc": "DEBUG logs every call"})
    metrics_port: int = field(
        default=0, metadata={"doc": "port of the Prometheus /metrics endpoint, on the listen host; 0 turns it off"}
    )


def load() -> SearchSettings:
    return load_settings(SearchSettings, PREFIX)
