"""Outbound channels: one way to dial a peer, with retries on UNAVAILABLE only and explicit message limits."""

import json

import grpc

from audiosearch.sdk.security import ChannelSecurity

# Sent on every internal call so one request's logs can be followed across services.
REQUEST_ID_HEADER = "x-request-id"


def message_options(max_message_bytes: int) -> list[tuple[str, int]]:
    """The gRPC options that raise both message size limits to `max_message_bytes` (channels and servers alike)."""
    return [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
    ]


def _service_config(service_names: list[str], load_balancing: str) -> str:
    return json.dumps(
        {
            "loadBalancingConfig": [{load_balancing: {}}],
            "methodConfig": [
                {
                    "name": [{"service": name} for name in service_names],
                    "retryPolicy": {
                        "maxAttempts": 4,
                        "initialBackoff": "0.1s",
                        "maxBackoff": "2s",
                        "backoffMultiplier": 2,
                        "retryableStatusCodes": ["UNAVAILABLE"],
                    },
                }
            ],
        }
    )


def dial(
    address: str,
    service_names: list[str],
    max_message_bytes: int = 64 * 1024 * 1024,
    load_balancing: str = "round_robin",
    security: ChannelSecurity | None = None,
) -> grpc.Channel:
    """A channel to `address` (host:port, or dns:///name:port for several replicas) that retries UNAVAILABLE.

    `security` adds TLS (mutual with a client certificate) and a bearer token; without it the channel is plaintext.
    """
    options = [
        *message_options(max_message_bytes),
        ("grpc.enable_retries", 1),
        ("grpc.service_config", _service_config(service_names, load_balancing)),
        ("grpc.keepalive_time_ms", 30_000),
    ]
    if security is not None:
        return security.secure(address, options)
    return grpc.insecure_channel(address, options=options)
