"""Every server, as grpcurl and a health probe see it: reflection lists and describes its API without proto files,
and grpc.health.v1 says NOT_SERVING until the server is ready, SERVING after."""

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from audiosearch.embedding.v1 import embedding_service_pb2
from audiosearch.gateway.v1 import gateway_service_pb2
from audiosearch.metadata.v1 import metadata_service_pb2
from audiosearch.sdk import services
from audiosearch.search.v1 import search_service_pb2
from embedding_service import server as embedding_server
from embedding_service.config import EmbeddingSettings
from embedding_service.models.logmel import LogMelModel
from embedding_service.models.registry import ModelRegistry
from gateway import server as gateway_server
from gateway.config import GatewaySettings
from metadata_service import server as metadata_server
from metadata_service.blobs import FileBlobs
from metadata_service.config import MetadataSettings
from metadata_service.core import MetadataCore
from metadata_service.store import open_store
from search_service import server as search_server
from search_service.config import SearchSettings
from search_service.core import SearchCore
from search_service.store import MilvusVectorStore

LOCAL = "127.0.0.1:0"
TIMEOUT = 10
HEALTH = "grpc.health.v1.Health"
REFLECTION = "grpc.reflection.v1alpha.ServerReflection"
SERVICES = {
    "embedding": ("audiosearch.embedding.v1.EmbeddingService", embedding_service_pb2),
    "search": ("audiosearch.search.v1.SearchService", search_service_pb2),
    "metadata": ("audiosearch.metadata.v1.MetadataService", metadata_service_pb2),
    "gateway": ("audiosearch.gateway.v1.GatewayService", gateway_service_pb2),
}

# Services a server answers beside its main one.
ALSO_SERVED = {
    "metadata": {services.IMPORT_JOB_RECORDS.full_name},
    "gateway": {services.IMPORT_JOBS.full_name, services.SPEAKERS.full_name},
}


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stores")
    metadata = open_store(f"sqlite:///{folder / 'metadata.db'}")
    vectors = MilvusVectorStore.open(SearchSettings(milvus_uri=str(folder / "vectors.db")))
    yield {"metadata": metadata, "vectors": vectors, "folder": folder}
    vectors.close()
    metadata.close()


def build(kind: str, stores):
    """The server of `kind` built as its main() builds it, bound to a free port, not yet started."""
    if kind == "embedding":
        settings = EmbeddingSettings(listen=LOCAL)
        return embedding_server.build_server(
            settings, embedding_server.build_core(settings, ModelRegistry([LogMelModel()]))
        ), None
    if kind == "search":
        return search_server.build_server(SearchSettings(listen=LOCAL), SearchCore(stores["vectors"])), None
    if kind == "metadata":
        core = MetadataCore(stores["metadata"], FileBlobs(stores["folder"] / "audio"))
        return metadata_server.build_server(MetadataSettings(listen=LOCAL), core), None
    # The gateway dials its peers lazily, so none has to be up for it to serve health and reflection.
    settings = GatewaySettings("127.0.0.1:1", "127.0.0.1:1", "127.0.0.1:1", listen=LOCAL)
    core = gateway_server.build_core(settings)
    return gateway_server.build_server(settings, core), core


@pytest.fixture(params=list(SERVICES))
def served(request, stores):
    """(kind, running server, channel to it): started, health still NOT_SERVING, as before serve() says ready."""
    running, gateway_core = build(request.param, stores)
    running.server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    yield request.param, running, channel
    channel.close()
    running.stop(0)
    if gateway_core is not None:
        for client in (gateway_core.embedder, gateway_core.index, gateway_core.catalog):
            client.channel.close()


def health_of(channel, service: str) -> int:
    request = health_pb2.HealthCheckRequest(service=service)
    return health_pb2_grpc.HealthStub(channel).Check(request, timeout=TIMEOUT).status


def test_health_is_not_serving_until_ready_then_serving(served):
    kind, running, channel = served
    name = SERVICES[kind][0]
    assert health_of(channel, "") == health_pb2.HealthCheckResponse.NOT_SERVING
    assert health_of(channel, name) == health_pb2.HealthCheckResponse.NOT_SERVING

    running.set_serving(True)

    assert health_of(channel, "") == health_pb2.HealthCheckResponse.SERVING
    assert health_of(channel, name) == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.RpcError) as raised:
        health_of(channel, "no.such.Service")
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


def reflect(channel, **request) -> reflection_pb2.ServerReflectionResponse:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    (response,) = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(**request)]), timeout=TIMEOUT)
    assert not response.HasField("error_response"), response.error_response.error_message
    return response


def test_reflection_lists_the_service_health_and_reflection(served):
    kind, _, channel = served
    response = reflect(channel, list_services="")
    listed = {service.name for service in response.list_services_response.service}
    assert listed == {SERVICES[kind][0], HEALTH, REFLECTION, *ALSO_SERVED.get(kind, ())}


def test_reflection_describes_the_service_without_proto_files(served):
    kind, _, channel = served
    name, stubs = SERVICES[kind]
    response = reflect(channel, file_containing_symbol=name)
    blobs = response.file_descriptor_response.file_descriptor_proto
    files = [descriptor_pb2.FileDescriptorProto.FromString(blob) for blob in blobs]
    described = next(file for file in files if any(f"{file.package}.{s.name}" == name for s in file.service))
    assert described.name == stubs.DESCRIPTOR.name

    # A client with nothing but the channel resolves the service, its methods and their messages (imports too).
    pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
    service = pool.FindServiceByName(name)
    compiled = stubs.DESCRIPTOR.services_by_name[name.rsplit(".", 1)[1]]
    assert [method.name for method in service.methods] == [method.name for method in compiled.methods]
    for method, expected in zip(service.methods, compiled.methods, strict=True):
        assert method.input_type.full_name == expected.input_type.full_name
        assert [field.name for field in method.input_type.fields] == [
            field.name for field in expected.input_type.fields
        ]
        assert [field.name for field in method.output_type.fields] == [
            field.name for field in expected.output_type.fields
        ]
