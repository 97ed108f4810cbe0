"""Security settings are loaded once by each service's main() and passed in: create_server never reads the env.
Every RPC of the four services has a role decided in the table, by its full name from the descriptors."""

import grpc
import pytest
from google.protobuf.descriptor import ServiceDescriptor

from audiosearch.embedding.v1 import embedding_service_pb2 as embedding_pb2
from audiosearch.runtime import auth
from audiosearch.runtime.security import ServerSecurity
from audiosearch.sdk import services
from embedding_service import server as embedding_server
from embedding_service.config import EmbeddingSettings
from embedding_service.models.logmel import LogMelModel
from embedding_service.models.registry import ModelRegistry

# Every service the SDK names (the four, and those served beside them: speakers, import jobs).
SERVICES = [value for value in vars(services).values() if isinstance(value, ServiceDescriptor)]


def test_every_rpc_has_a_role_in_the_table_and_the_table_names_only_real_rpcs():
    every = {f"/{service.full_name}/{method.name}" for service in SERVICES for method in service.methods}
    assert set(auth.METHOD_ROLES) == every
    assert set(auth.METHOD_ROLES.values()) <= set(auth.ROLES)
    # Same method name, different services: each is looked up by its own full name.
    assert auth.required_role("/audiosearch.metadata.v1.MetadataService/DeleteCollection") == "admin"
    assert auth.required_role("/audiosearch.metadata.v1.MetadataService/ListCollections") == "read"


def _embedding_server(security: ServerSecurity | None):
    settings = EmbeddingSettings(listen="127.0.0.1:0")
    core = embedding_server.build_core(settings, ModelRegistry([LogMelModel()]))
    running = embedding_server.build_server(settings, core, security)
    running.server.start()
    return running


def _list_models(port: int, metadata=()) -> grpc.StatusCode:
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    method = channel.unary_unary(
        f"/{services.EMBEDDING.full_name}/ListModels",
        request_serializer=embedding_pb2.ListModelsRequest.SerializeToString,
        response_deserializer=embedding_pb2.ListModelsResponse.FromString,
    )
    try:
        method.with_call(embedding_pb2.ListModelsRequest(), timeout=10, metadata=metadata)
        return grpc.StatusCode.OK
    except grpc.RpcError as error:
        return error.code()
    finally:
        channel.close()


def test_the_env_alone_does_not_turn_auth_on(monkeypatch):
    monkeypatch.setenv("AUDIOSEARCH_EMBEDDING_AUTH_TOKENS", "admin:from-env")
    running = _embedding_server(None)
    try:
        assert _list_models(running.port) == grpc.StatusCode.OK
    finally:
        running.stop(0)


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("", grpc.StatusCode.UNAUTHENTICATED),
        ("passed-in", grpc.StatusCode.OK),
        ("wrong", grpc.StatusCode.UNAUTHENTICATED),
    ],
)
def test_the_security_passed_in_is_the_one_enforced(token, code):
    running = _embedding_server(ServerSecurity(auth_tokens=("read:passed-in",)))
    try:
        metadata = [("authorization", f"Bearer {token}")] if token else []
        assert _list_models(running.port, metadata) == code
    finally:
        running.stop(0)
