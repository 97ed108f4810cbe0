"""Search service settings, read once from AUDIOSEARCH_SEARCH_* env vars."""

from dataclasses import dataclass, field

from audiosearch.common.settings import load_settings

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
    milvus_db: str = field(default="", metadata={"doc": "Milvus database; empty for the default one"})
    milvus_timeout_seconds: float = field(
        default=30.0, metadata={"doc": "deadline of each Milvus call (capped by the caller's deadline)"}
    )
    collection_prefix: str = field(
        default="audiosearch_", metadata={"doc": "prefix of Milvus collection names, so deployments can share one"}
    )
    consistency_level: str = field(
        default="Strong", metadata={"doc": "Milvus consistency; Strong makes a clip searchable once ingest returns"}
    )
    max_message_bytes: int = field(default=64 * MIB, metadata={"doc": "gRPC max message size, in and out"})
    max_workers: int = field(default=16, metadata={"doc": "concurrent RPC threads"})
    grace_seconds: float = field(default=5.0, metadata={"doc": "time in-flight calls get on SIGTERM"})
    log_level: str = field(default="INFO", metadata={"doc": "DEBUG logs every call"})


def load() -> SearchSettings:
    return load_settings(SearchSettings, PREFIX)
