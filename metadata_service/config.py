"""Metadata service settings, read once from AUDIOSEARCH_METADATA_* env vars."""

from dataclasses import dataclass, field

from audiosearch.runtime.settings import load_settings

PREFIX = "AUDIOSEARCH_METADATA_"
MIB = 1024 * 1024


@dataclass(frozen=True)
class MetadataSettings:
    listen: str = field(default="127.0.0.1:50054", metadata={"doc": "address the metadata API binds"})
    database_url: str = field(
        default="sqlite:///data/metadata.db",
        metadata={
            "doc": "sqlite:///relative/path, sqlite:////absolute/path, or mysql://user:password@host:port/database"
            " (the database is created if absent)"
        },
    )
    audio_url: str = field(
        default="file://data/audio",
        metadata={
            "doc": "where kept audio is stored (docs/kept-audio.md): file://relative/dir, file:///absolute/dir, or"
            " s3://bucket/prefix (the bucket is created if absent)"
        },
    )
    max_audio_bytes: int = field(
        default=64 * MIB, metadata={"doc": "largest audio PutClipAudio keeps (at least the gateway's max_upload_bytes)"}
    )
    s3_endpoint_url: str = field(
        default="", metadata={"doc": "S3-compatible endpoint for s3:// audio (e.g. http://minio:9000); '' is AWS"}
    )
    s3_region: str = field(default="", metadata={"doc": "S3 region; '' leaves boto3 its default"})
    s3_access_key_id: str = field(
        default="", metadata={"doc": "S3 access key; '' uses boto3's credential chain (AWS_* env, instance role)"}
    )
    s3_secret_access_key: str = field(default="", metadata={"doc": "S3 secret key, with s3_access_key_id"})
    import_file_retention_days: float = field(
        default=7.0,
        metadata={
            "doc": "an ended import job keeps its per-file rows this long, then only its failures (its counts stay);"
            " 0 keeps them all"
        },
    )
    max_message_bytes: int = field(default=16 * MIB, metadata={"doc": "gRPC max message size, in and out"})
    max_workers: int = field(default=16, metadata={"doc": "concurrent RPC threads"})
    grace_seconds: float = field(default=5.0, metadata={"doc": "time in-flight calls get on SIGTERM"})
    log_level: str = field(default="INFO", metadata={"doc": "DEBUG logs every call"})
    metrics_port: int = field(
        default=0, metadata={"doc": "port of the Prometheus /metrics endpoint, on the listen host; 0 turns it off"}
    )


def load() -> MetadataSettings:
    return load_settings(MetadataSettings, PREFIX)
