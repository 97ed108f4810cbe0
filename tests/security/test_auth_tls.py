"""Token auth with roles, TLS and mutual TLS, on real servers over the wire (in this process, ports picked by the OS).

The gateway under test talks to a real embedding service; metadata and search are left unreachable on purpose:
a call that passes auth and needs them answers UNAVAILABLE, one refused by auth never gets that far.
"""

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from audiosearch.client import AudioSearchClient
from audiosearch.embedding.v1 import embedding_service_pb2 as embedding_pb2
from audiosearch.embedding.v1 import embedding_service_pb2_grpc as embedding_grpc
from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.gateway.v1 import gateway_service_pb2_grpc as pb2_grpc
from audiosearch.runtime.auth import TokenTable, required_role
from audiosearch.runtime.security import ServerSecurity, load_server_security
from audiosearch.runtime.server import Registration, create_server
from audiosearch.sdk import errors
from audiosearch.sdk.channel import dial
from audiosearch.sdk.errors import SettingsError
from audiosearch.sdk.rpc_errors import error_info
from audiosearch.sdk.security import ChannelSecurity
from embedding_service import server as embedding_server
from embedding_service.config import EmbeddingSettings
from embedding_service.models.logmel import LogMelModel
from embedding_service.models.registry import ModelRegistry
from embedding_service.servicer import EmbeddingServicer
from gateway import server as gateway_server
from gateway.config import GatewaySettings
from gateway.servicer import GatewayServicer

from certs import make_pki

TIMEOUT = 20
LOCAL = "127.0.0.1:0"
INTERNAL = "internal-secret-1"
TOKENS = ("read:reader-token", "write:writer-token", "admin:admin-token")
EMBEDDING = "audiosearch.embedding.v1.EmbeddingService"
GATEWAY = "audiosearch.gateway.v1.GatewayService"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def _embedding(security: ServerSecurity):
    core = embedding_server.build_core(EmbeddingSettings(listen=LOCAL), ModelRegistry([LogMelModel()]))
    registration = Registration(
        EmbeddingServicer(core), embedding_grpc.add_EmbeddingServiceServicer_to_server, EMBEDDING
    )
    running = create_server(LOCAL, [registration], 8 << 20, 4, security=security)
    running.server.start()
    running.set_serving(True)
    return running


def _gateway(embedding_port: int, security: ServerSecurity, peers: ChannelSecurity):
    settings = GatewaySettings(
        embedding_address=f"localhost:{embedding_port}",
        search_address="127.0.0.1:1",  # nothing listens: calls that pass auth and need it are UNAVAILABLE
        metadata_address="127.0.0.1:1",
        listen=LOCAL,
        call_timeout_seconds=2.0,
    )
    core = gateway_server.build_core(settings, peers)
    registration = Registration(GatewayServicer(core), pb2_grpc.add_GatewayServiceServicer_to_server, GATEWAY)
    running = create_server(LOCAL, [registration], 8 << 20, 4, security=security)
    running.server.start()
    running.set_serving(True)
    return running, core


def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value.code()


@pytest.fixture(scope="module")
def secured(pki):
    """A gateway with role tokens, over TLS, whose embedding peer wants mutual TLS and the internal token."""
    embedding = _embedding(
        ServerSecurity(
            auth_tokens=(f"admin:{INTERNAL}",),
            tls_cert_file=str(pki.server_cert),
            tls_key_file=str(pki.server_key),
            tls_client_ca_file=str(pki.ca),
        )
    )
    peers = ChannelSecurity(
        token=INTERNAL, tls_ca_file=str(pki.ca), tls_cert_file=str(pki.client_cert), tls_key_file=str(pki.client_key)
    )
    gateway, core = _gateway(
        embedding.port,
        ServerSecurity(auth_tokens=TOKENS, tls_cert_file=str(pki.server_cert), tls_key_file=str(pki.server_key)),
        peers,
    )
    yield gateway, embedding
    gateway.stop(0)
    embedding.stop(0)
    for client in (core.embedder, core.index, core.catalog):
        client.channel.close()


def _stub(port: int, pki, token: str = "") -> pb2_grpc.GatewayServiceStub:
    security = ChannelSecurity(token=token, tls_ca_file=str(pki.ca))
    return pb2_grpc.GatewayServiceStub(dial(f"localhost:{port}", [GATEWAY], security=security))


def test_token_table_from_env_and_file(tmp_path):
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text("# role token\nread r1\n\nadmin a1\n")
    table = TokenTable.load(("write:w1",), str(tokens_file))
    assert (table.role_of("r1"), table.role_of("w1"), table.role_of("a1"), table.role_of("nope")) == (
        "read",
        "write",
        "admin",
        None,
    )
    with pytest.raises(errors.InvalidArgument):
        TokenTable.parse(("superuser:x",))
    with pytest.raises(errors.InvalidArgument):
        TokenTable.parse((), "read\n")
    security = load_server_security_from({"AUDIOSEARCH_GATEWAY_AUTH_TOKENS": "read:a,admin:b"})
    assert len(security.token_table()) == 2
    with pytest.raises(SettingsError):
        ServerSecurity(auth_tokens_file=str(tmp_path / "missing")).token_table()


def load_server_security_from(environ):
    from audiosearch.runtime.settings import load_settings

    return load_settings(ServerSecurity, "AUDIOSEARCH_GATEWAY_", environ)


def test_roles_of_the_public_rpcs():
    read = ["SearchAudio", "GetClip", "ListClips", "GetStats", "ListModels", "ListCollections"]
    write = ["IngestAudio", "DeleteClip", "ImportDirectory"]
    admin = ["CreateCollection", "DropCollection", "Reconcile", "SomethingNew"]
    for names, role in [(read, "read"), (write, "write"), (admin, "admin")]:
        assert {required_role(f"/{GATEWAY}/{name}") for name in names} == {role}


def test_missing_or_wrong_token_is_unauthenticated(secured, pki):
    gateway, _ = secured
    for token in ("", "not-a-token", INTERNAL):  # the internal token is no good on the public API
        stub = _stub(gateway.port, pki, token)
        with pytest.raises(grpc.RpcError) as raised:
            stub.ListModels(pb2.ListModelsRequest(), timeout=TIMEOUT)
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert error_info(raised.value).reason in ("TOKEN_MISSING", "TOKEN_INVALID")
        assert token not in (raised.value.details() or "") or not token


def test_roles_are_enforced(secured, pki):
    gateway, _ = secured
    reader, writer, admin = (
        _stub(gateway.port, pki, token) for token in ("reader-token", "writer-token", "admin-token")
    )
    # A read token reads (through the mTLS + token peer channel to the embedding service)...
    assert [model.name for model in reader.ListModels(pb2.ListModelsRequest(), timeout=TIMEOUT).models] == ["logmel"]
    # ...but may not write or administer.
    assert (
        _code(lambda: reader.DeleteClip(pb2.DeleteClipRequest(id=1), timeout=TIMEOUT))
        == grpc.StatusCode.PERMISSION_DENIED
    )
    request = pb2.CreateCollectionRequest(name="x", model="logmel")
    assert _code(lambda: reader.CreateCollection(request, timeout=TIMEOUT)) == grpc.StatusCode.PERMISSION_DENIED
    assert _code(lambda: writer.CreateCollection(request, timeout=TIMEOUT)) == grpc.StatusCode.PERMISSION_DENIED
    stream = iter([pb2.IngestAudioRequest(options=pb2.IngestOptions(collection="x"))])
    assert _code(lambda: reader.IngestAudio(stream, timeout=TIMEOUT)) == grpc.StatusCode.PERMISSION_DENIED
    # Past auth, a write token reaches the (unreachable) metadata service; admin may do everything.
    assert _code(lambda: writer.DeleteClip(pb2.DeleteClipRequest(id=1), timeout=TIMEOUT)) == grpc.StatusCode.UNAVAILABLE
    assert _code(lambda: admin.GetClip(pb2.GetClipRequest(id=1), timeout=TIMEOUT)) == grpc.StatusCode.UNAVAILABLE


def test_health_and_reflection_stay_open(secured, pki):
    gateway, _ = secured
    channel = dial(f"localhost:{gateway.port}", [GATEWAY], security=ChannelSecurity(tls_ca_file=str(pki.ca)))
    status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=TIMEOUT).status
    assert status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    answers = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {service.name for answer in answers for service in answer.list_services_response.service}
    assert GATEWAY in names


def test_client_sdk_with_token_and_tls(secured, pki):
    gateway, _ = secured
    security = ChannelSecurity(tls_ca_file=str(pki.ca))
    with AudioSearchClient(f"localhost:{gateway.port}", 10, token="reader-token", security=security) as client:
        assert [model.name for model in client.list_models()] == ["logmel"]
        with pytest.raises(errors.PermissionDenied):
            client.delete_clip(1)
    with AudioSearchClient(f"localhost:{gateway.port}", 10, security=security) as client:
        with pytest.raises(errors.Unauthenticated):
            client.list_models()


def test_plaintext_client_cannot_talk_to_a_tls_server(secured):
    gateway, _ = secured
    stub = pb2_grpc.GatewayServiceStub(grpc.insecure_channel(f"localhost:{gateway.port}"))
    assert _code(lambda: stub.ListModels(pb2.ListModelsRequest(), timeout=5)) == grpc.StatusCode.UNAVAILABLE


def test_mutual_tls_refuses_clients_without_a_trusted_certificate(secured, pki):
    _, embedding = secured
    address = f"localhost:{embedding.port}"
    request = embedding_pb2.ListModelsRequest()

    def call(security: ChannelSecurity):
        return embedding_grpc.EmbeddingServiceStub(dial(address, [EMBEDDING], security=security)).ListModels(
            request, timeout=5
        )

    no_cert = ChannelSecurity(token=INTERNAL, tls_ca_file=str(pki.ca))
    assert _code(lambda: call(no_cert)) == grpc.StatusCode.UNAVAILABLE
    rogue = ChannelSecurity(
        token=INTERNAL, tls_ca_file=str(pki.ca), tls_cert_file=str(pki.rogue_cert), tls_key_file=str(pki.rogue_key)
    )
    assert _code(lambda: call(rogue)) == grpc.StatusCode.UNAVAILABLE
    good = ChannelSecurity(
        tls_ca_file=str(pki.ca), tls_cert_file=str(pki.client_cert), tls_key_file=str(pki.client_key)
    )
    # A trusted certificate without the internal token is still refused by the token check.
    assert _code(lambda: call(good)) == grpc.StatusCode.UNAUTHENTICATED
    models = call(ChannelSecurity(**{**good.__dict__, "token": INTERNAL})).models
    assert [model.name for model in models] == ["logmel"]


def test_gateway_with_a_wrong_peer_token_is_refused_by_the_peer(secured, pki):
    _, embedding = secured
    peers = ChannelSecurity(
        token="wrong", tls_ca_file=str(pki.ca), tls_cert_file=str(pki.client_cert), tls_key_file=str(pki.client_key)
    )
    gateway, core = _gateway(embedding.port, ServerSecurity(), peers)
    try:
        stub = pb2_grpc.GatewayServiceStub(grpc.insecure_channel(f"127.0.0.1:{gateway.port}"))
        assert (
            _code(lambda: stub.ListModels(pb2.ListModelsRequest(), timeout=TIMEOUT)) == grpc.StatusCode.UNAUTHENTICATED
        )
    finally:
        gateway.stop(0)
        for client in (core.embedder, core.index, core.catalog):
            client.channel.close()


def test_security_from_env_is_per_service(monkeypatch, tmp_path):
    monkeypatch.setenv("AUDIOSEARCH_EMBEDDING_AUTH_TOKENS", "read:emb")
    assert len(load_server_security("AUDIOSEARCH_EMBEDDING_").token_table()) == 1
    assert not load_server_security("AUDIOSEARCH_GATEWAY_").token_table()
    with pytest.raises(SettingsError):
        ServerSecurity(tls_client_ca_file=str(tmp_path / "ca.pem")).bind(grpc.server(None), LOCAL)
