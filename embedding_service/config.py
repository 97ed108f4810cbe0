"""Settings of the embedding service, from AUDIOSEARCH_EMBEDDING_* environment variables."""

from dataclasses import dataclass, field

from audiosearch.runtime.settings import load_settings

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
    max_decoded_samples: int = field(
        default=600 * 96_000 * 2,
        metadata={"doc": "most samples one clip may decode to (rate x channels x duration), checked from its header"},
    )
    decode_budget_samples: int = field(
        default=24_000_000,
        metadata={
            "doc": "mono samples at the models' rates all calls may hold decoded at once (up to ~40 bytes each with a "
            "model's work); beyond it calls get RESOURCE_EXHAUSTED"
        },
    )
    models: tuple[str, ...] = field(
        default=("logmel", "fingerprint", "ge2e", "ecapa_tdnn", "panns_cnn14", "panns_cnn10", "panns_cnn6"),
        metadata={"doc": "comma-separated models to serve; PaddleSpeech ones without weights are listed unavailable"},
    )
    model_dir: str = field(
        default="~/.cache/audiosearch/models",
        metadata={"doc": "folder holding PaddleSpeech weights (`audiosearch models fetch/import` install there)"},
    )
    model_threads: int = field(
        default=0,
        metadata={"doc": "threads per model forward (0: one per core); ecapa_tdnn: forwards at once, 1 thread each"},
    )
    fast_inference: bool = field(
        default=True,
        metadata={
            "doc": "fast paths: ecapa_tdnn as an OpenVINO graph, PANNs as Paddle Inference graphs (cached in model_dir)"
        },
    )
    grace_seconds: float = field(default=5.0, metadata={"doc": "time in-flight calls get to finish on shutdown"})
    log_level: str = field(default="INFO", metadata={"doc": "DEBUG, INFO, WARNING or ERROR"})
    ge2e_weights: str = field(
        default="",
        metadata={"doc": "the ge2e model's weights (resemblyzer's pretrained.pt); empty finds the installed package"},
    )
    metrics_port: int = field(
        default=0, metadata={"doc": "port of the Prometheus /metrics endpoint, on the listen host; 0 turns it off"}
    )


def load() -> EmbeddingSettings:
    return load_settings(EmbeddingSettings, PREFIX)
