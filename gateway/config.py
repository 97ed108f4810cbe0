"""Gateway settings, read once from AUDIOSEARCH_GATEWAY_* env vars."""

from dataclasses import dataclass, field

from audiosearch.runtime.settings import load_settings

PREFIX = "AUDIOSEARCH_GATEWAY_"
# TLS and the internal token for calls to the three services (audiosearch.sdk.security.ChannelSecurity).
PEER_PREFIX = "AUDIOSEARCH_GATEWAY_PEER_"
MIB = 1024 * 1024


@dataclass(frozen=True)
class GatewaySettings:
    embedding_address: str = field(metadata={"doc": "embedding service (host:port, or dns:///name:port for replicas)"})
    search_address: str = field(metadata={"doc": "search service address"})
    metadata_address: str = field(metadata={"doc": "metadata service address"})
    listen: str = field(default="127.0.0.1:50051", metadata={"doc": "address the public API binds"})
    import_roots: tuple[str, ...] = field(
        default=(), metadata={"doc": "comma-separated folders ImportDirectory may read; empty refuses all"}
    )
    max_upload_bytes: int = field(
        default=64 * MIB, metadata={"doc": "largest audio accepted by IngestAudio and SearchAudio"}
    )
    max_message_bytes: int = field(default=72 * MIB, metadata={"doc": "gRPC max message size, in and out"})
    max_workers: int = field(default=16, metadata={"doc": "concurrent RPC threads"})
    call_timeout_seconds: float = field(default=10.0, metadata={"doc": "deadline of calls to search and metadata"})
    embed_timeout_seconds: float = field(default=120.0, metadata={"doc": "deadline of calls to the embedding service"})
    grace_seconds: float = field(default=5.0, metadata={"doc": "time in-flight calls get on SIGTERM"})
    log_level: str = field(default="INFO", metadata={"doc": "DEBUG logs every call"})
    metrics_port: int = field(
        default=0, metadata={"doc": "port of the Prometheus /metrics endpoint, on the listen host; 0 turns it off"}
    )
    reconcile_min_age_seconds: float = field(
        default=300.0, metadata={"doc": "reconcile touches only clips not updated for this long (in-flight ingests)"}
    )
    reconcile_interval_seconds: float = field(
        default=0.0, metadata={"doc": "run reconcile every this many seconds in the gateway; 0 turns it off"}
    )
    speaker_scoring: str = field(
        default="AS_NORM", metadata={"doc": "speaker scoring: AS_NORM, CENTROID, MAX or TOP_K_MEAN (docs/speakers.md)"}
    )
    speaker_top_k: int = field(default=2, metadata={"doc": "utterance scores TOP_K_MEAN scoring averages"})
    speaker_cohort_size: int = field(default=50, metadata={"doc": "other speakers in each AS-norm cohort"})
    speaker_search_hits: int = field(
        default=0,
        metadata={"doc": "speakers IdentifySpeaker reads from the speaker index; 0: the cohort + 1 (all AS-norm uses)"},
    )
    collection_cache_seconds: float = field(
        default=5.0,
        metadata={
            "doc": "IdentifySpeaker/VerifySpeaker reuse a collection record read this recently (a calibration or drop "
            "through another gateway shows after at most this); 0 reads it every time"
        },
    )
    speaker_min_speech_seconds: float = field(
        default=2.0, metadata={"doc": "net speech an enrollment utterance needs (energy voice activity)"}
    )
    speaker_low_confidence_seconds: float = field(
        default=3.0, metadata={"doc": "identify/verify audio with less net speech is flagged low_confidence"}
    )
    speaker_min_margin: float = field(
        default=0.0, metadata={"doc": "UNKNOWN when the best speaker is within this score of the runner-up; 0: off"}
    )
    import_lease_seconds: float = field(
        default=30.0,
        metadata={"doc": "an import job's lease: a gateway that dies holds its job this long, then another takes it"},
    )
    import_poll_seconds: float = field(
        default=5.0, metadata={"doc": "how often an idle gateway looks for import jobs to run (queued or abandoned)"}
    )
    import_concurrency: int = field(
        default=0,
        metadata={"doc": "files an import job embeds at once; 0: twice the embedding addresses (ipv4:a:1,b:2 lists)"},
    )
    import_batch_size: int = field(
        default=64, metadata={"doc": "most files an import job writes (records, vectors, READY) per batch"}
    )
    import_retry_seconds: float = field(
        default=300.0,
        metadata={"doc": "how long an import job waits out a busy or unavailable peer before failing the file or job"},
    )


def import_concurrency(settings: GatewaySettings) -> int:
    """import_concurrency, or twice the embedding replicas the address lists (one per comma; a DNS name counts 1)."""
    if settings.import_concurrency > 0:
        return settings.import_concurrency
    return 2 * (settings.embedding_address.count(",") + 1)


def load() -> GatewaySettings:
    return load_settings(GatewaySettings, PREFIX)
