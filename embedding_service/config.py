"""Settings of the embedding service, from AUDIOSEARCH_EMBEDDING_* environment variables."""

from dataclasses import dataclass, field

from audiosearch.common.settings import load_settings

MIB = 1024 * 1024
PREFIX = "AUDIOSEARCH_EMBEDDING_"


@dataclass(frozen=True)
class EmbeddingSettings:
    listen: str = field(default="127.0.0.1:50052", metadata={"doc": "address to serve on (host:port; 0 picks a port)"})
    max_audio_bytes: int = field(default=64 * MIB, metadata={"doc": "largest audio file accepted, in bytes"})
    max_duration_seconds: float = field(default=600.0, metadata={"doc": "longest audio accepted, in seconds"})
    allowed_roots: tuple[str, ...] = field(
        default=(),
        metadata={"doc": "comma-separated folders that `uri` sources may read from; empty refuses every uri"},
    )
    max_message_bytes: int = field(default=72 * MIB, metadata={"doc": "largest gRPC message, in and out"})
    max_workers: int = field(default=16, metadata={"doc": "threads serving RPCs"})
    max_concurrent_embeds: int = field(
        default=8, metadata={"doc": "embeddings computed at once; beyond it calls get RESOURCE_EXHAUSTED"}
    )
    grace_seconds: float = field(default=5.0, metadata={"doc": "time in-flight calls get to finish on shutdown"})
    log_level: str = field(default="INFO", metadata={"doc": "DEBUG, INFO, WARNING or ERROR"})


def load() -> EmbeddingSettings:
    return load_settings(EmbeddingSettings, PREFIX)
