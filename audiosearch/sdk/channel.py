"""Outbound channels: one way to dial a peer, retrying UNAVAILABLE on idempotent methods only, explicit limits."""

import json

import grpc
from google.protobuf.descriptor import ServiceDescriptor

from audiosearch.sdk import services
from audiosearch.sdk.security import ChannelSecurity

# Sent on every internal call so one request's logs can be followed across services.
REQUEST_ID_HEADER = "x-request-id"


def message_options(max_message_bytes: int) -> list[tuple[str, int]]:
    """The gRPC options that raise both message size limits to `max_message_bytes` (channels and servers alike)."""
    return [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
    ]


def _methods(service: ServiceDescriptor, *names: str) -> tuple[str, tuple[str, ...]]:
    """(full service name, method names); a name the service does not have fails at import (KeyError)."""
    return service.full_name, tuple(service.methods_by_name[name].name for name in names)


# The methods a channel retries on UNAVAILABLE: reads, and writes safe to repeat (keyed by the caller, or
# deduplicated by request_id and content). The rest are tried once: a retry after a lost reply would act twice
# or fail (CreateCollection: ALREADY_EXISTS; DropCollection, DeleteCollection: NOT_FOUND).
RETRYABLE_METHODS: dict[str, tuple[str, ...]] = dict(
    [
        # The public API as the SDK client calls it: IngestAudio always carries a request_id (one is generated).
        _methods(
            services.GATEWAY,
            "ListModels",
            "ListCollections",
            "SearchAudio",
            "GetClip",
            "ListClips",
            "GetStats",
            "IngestAudio",
            "DeleteClip",
            # Measures and stores again: the same result.
            "CalibrateRecordings",
            "GetClipAudio",
        ),
        # The gateway's peers.
        _methods(services.EMBEDDING, "ListModels", "EmbedAudio", "StreamEmbedAudio", "CutAudio"),
        _methods(
            services.SEARCH,
            "EnsureCollection",
            "Upsert",
            "Delete",
            "Search",
            "Count",
            "GetVectors",
            "ListClipIds",
            "SwitchCollection",
            # Speaker rows: written whole (an upsert replaces), deleted idempotently, read.
            "UpsertSpeakers",
            "DeleteSpeakers",
            "SearchSpeakers",
            "GetSpeakers",
        ),
        _methods(
            services.METADATA,
            "GetCollection",
            "ListCollections",
            "CreateClip",
            "GetClip",
            "BatchGetClips",
            "ListClips",
            "FindByContentHash",
            "UpdateClipState",
            "DeleteClip",
            "CountClips",
            # Kept audio: content-addressed, so putting the same bytes again changes nothing.
            "PutClipAudio",
            "BatchPutClipAudio",
            "ReadClipAudio",
            "RemoveOrphanAudio",
            "SetCalibration",
        ),
        # Speakers: reads and decisions, deletes (idempotent), and enrollments (the SDK always sends a request_id).
        _methods(
            services.SPEAKERS,
            "EnrollSpeaker",
            "GetSpeaker",
            "ListSpeakers",
            "DeleteSpeaker",
            "IdentifySpeaker",
            "VerifySpeaker",
        ),
        # Import jobs: reads, and writes keyed by request_id, job id and ordinal, or compare-and-set on the lease.
        _methods(
            services.IMPORT_JOBS,
            "CreateImportJob",
            "GetImportJob",
            "ListImportJobs",
            "CancelImportJob",
            "ListImportJobFailures",
            "RebuildCollection",
        ),
        _methods(services.IMPORT_JOB_RECORDS, *(method.name for method in services.IMPORT_JOB_RECORDS.methods)),
    ]
)


def service_config(service_names: list[str], load_balancing: str = "round_robin") -> dict:
    """The channel's service config: `load_balancing`, and retries of UNAVAILABLE on the RETRYABLE_METHODS only."""
    names = [
        {"service": name, "method": method} for name in service_names for method in RETRYABLE_METHODS.get(name, ())
    ]
    config: dict = {"loadBalancingConfig": [{load_balancing: {}}]}
    if names:
        config["methodConfig"] = [
            {
                "name": names,
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    return config


def channel_options(
    service_names: list[str], max_message_bytes: int = 64 * 1024 * 1024, load_balancing: str = "round_robin"
) -> list[tuple[str, object]]:
    """The options of every outbound channel (sync, or grpc.aio as the web console dials them): limits, retries."""
    return [
        *message_options(max_message_bytes),
        ("grpc.enable_retries", 1),
        ("grpc.service_config", json.dumps(service_config(service_names, load_balancing))),
        ("grpc.keepalive_time_ms", 30_000),
    ]


def dial(
    address: str,
    service_names: list[str],
    max_message_bytes: int = 64 * 1024 * 1024,
    load_balancing: str = "round_robin",
    security: ChannelSecurity | None = None,
) -> grpc.Channel:
    """A channel to `address` (host:port, or dns:///name:port for several replicas) that retries UNAVAILABLE on
    the idempotent methods of `service_names` (full names, from the descriptors; see RETRYABLE_METHODS).

    `security` adds TLS (mutual with a client certificate) and a bearer token; without it the channel is plaintext.
    """
    options = channel_options(service_names, max_message_bytes, load_balancing)
    if security is not None:
        return security.secure(address, options)
    return grpc.insecure_channel(address, options=options)
