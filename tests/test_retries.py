"""Channels retry UNAVAILABLE only on idempotent methods: the service config names them, and the wire agrees."""

import json
from concurrent import futures

import grpc
import pytest

from audiosearch.embedding.v1 import embedding_service_pb2 as embedding_pb2
from audiosearch.gateway.v1 import gateway_service_pb2 as gateway_pb2
from audiosearch.metadata.v1 import metadata_service_pb2 as metadata_pb2
from audiosearch.sdk import channel, services
from audiosearch.search.v1 import search_service_pb2 as search_pb2
from audiosearch.type.v1 import types_pb2

GATEWAY = gateway_pb2.DESCRIPTOR.services_by_name["GatewayService"]
SERVICES = [
    GATEWAY,
    embedding_pb2.DESCRIPTOR.services_by_name["EmbeddingService"],
    search_pb2.DESCRIPTOR.services_by_name["SearchService"],
    metadata_pb2.DESCRIPTOR.services_by_name["MetadataService"],
    services.IMPORT_JOBS,
    services.IMPORT_JOB_RECORDS,
    services.SPEAKERS,
]
# Tried once: a retry after a lost reply would act twice, or fail on what the first attempt did.
NOT_RETRIED = {
    "audiosearch.gateway.v1.GatewayService": {"CreateCollection", "DropCollection", "ImportDirectory", "Reconcile"},
    "audiosearch.embedding.v1.EmbeddingService": set(),
    "audiosearch.search.v1.SearchService": {"DropCollection"},
    "audiosearch.metadata.v1.MetadataService": {"CreateCollection", "DeleteCollection"},
    # A stream the caller re-opens itself (the SDK watches again from the job's current state).
    "audiosearch.gateway.v1.ImportJobService": {"WatchImportJob"},
    "audiosearch.metadata.v1.ImportJobService": set(),
    # Reads every enrollment vector: a lost reply is retried by the caller, not by the channel.
    "audiosearch.gateway.v1.SpeakerService": {"CalibrateSpeakers"},
}


def _retried(service_names: list[str]) -> set[tuple[str, str]]:
    config = channel.service_config(service_names)
    (method_config,) = config["methodConfig"]
    assert method_config["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE"]
    return {(name["service"], name["method"]) for name in method_config["name"]}


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_the_service_config_names_each_idempotent_method_and_no_other(service):
    retried = _retried([service.full_name])
    every = {(service.full_name, method.name) for method in service.methods}
    once = {(service.full_name, name) for name in NOT_RETRIED[service.full_name]}
    assert once <= every  # the names above are real methods
    assert retried == every - once
    # Never a whole service: a method config naming only the service would retry its every method.
    assert all("method" in name for name in channel.service_config([service.full_name])["methodConfig"][0]["name"])


def test_create_and_drop_collection_are_never_retried():
    retried = _retried([service.full_name for service in SERVICES])
    for service in SERVICES:
        for method in ("CreateCollection", "DropCollection", "DeleteCollection"):
            assert (service.full_name, method) not in retried
    assert {(GATEWAY.full_name, name) for name in ("GetClip", "SearchAudio", "IngestAudio", "DeleteClip")} <= retried


def test_a_service_without_idempotent_methods_gets_no_retry_policy():
    assert "methodConfig" not in channel.service_config(["example.v1.Unknown"])


def test_dial_puts_that_config_on_the_channel(monkeypatch):
    seen = {}

    def insecure_channel(address, options):
        seen.update(options)
        return "channel"

    monkeypatch.setattr(channel.grpc, "insecure_channel", insecure_channel)
    assert channel.dial("localhost:1", [GATEWAY.full_name]) == "channel"
    assert seen["grpc.enable_retries"] == 1
    assert json.loads(seen["grpc.service_config"]) == channel.service_config([GATEWAY.full_name])


@pytest.fixture
def flaky_gateway():
    """GetClip and CreateCollection that answer UNAVAILABLE to the first attempt of each call, counting attempts."""
    attempts = {"GetClip": 0, "CreateCollection": 0}

    def behavior(name, response):
        def handle(request, context):
            attempts[name] += 1
            if attempts[name] == 1:
                context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")
            return response

        return handle

    handlers = {
        "GetClip": grpc.unary_unary_rpc_method_handler(
            behavior("GetClip", types_pb2.Clip(id=7)),
            request_deserializer=gateway_pb2.GetClipRequest.FromString,
            response_serializer=types_pb2.Clip.SerializeToString,
        ),
        "CreateCollection": grpc.unary_unary_rpc_method_handler(
            behavior("CreateCollection", types_pb2.Collection(name="sounds")),
            request_deserializer=gateway_pb2.CreateCollectionRequest.FromString,
            response_serializer=types_pb2.Collection.SerializeToString,
        ),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(GATEWAY.full_name, handlers)])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    connection = channel.dial(f"127.0.0.1:{port}", [GATEWAY.full_name])
    yield connection, attempts
    connection.close()
    server.stop(0)


def test_over_the_wire_a_read_is_retried_and_a_create_is_not(flaky_gateway):
    connection, attempts = flaky_gateway
    get_clip = connection.unary_unary(
        f"/{GATEWAY.full_name}/GetClip",
        request_serializer=gateway_pb2.GetClipRequest.SerializeToString,
        response_deserializer=types_pb2.Clip.FromString,
    )
    assert get_clip(gateway_pb2.GetClipRequest(id=7), timeout=10).id == 7
    assert attempts["GetClip"] == 2

    create = connection.unary_unary(
        f"/{GATEWAY.full_name}/CreateCollection",
        request_serializer=gateway_pb2.CreateCollectionRequest.SerializeToString,
        response_deserializer=types_pb2.Collection.FromString,
    )
    with pytest.raises(grpc.RpcError) as raised:
        create(gateway_pb2.CreateCollectionRequest(name="sounds"), timeout=10)
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert attempts["CreateCollection"] == 1
