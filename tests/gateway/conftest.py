"""The whole stack in this process, on real stores: metadata on a SQLite file, search on a Milvus Lite file, embedding
with the weights-free logmel model, and the gateway wired to them over the real wire (every port picked by the OS).

Creating Milvus collections is slow, so one stack serves the session and each test uses its own collection names.
"""

import dataclasses
import itertools
import pathlib

import grpc
import pytest

from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.gateway.v1 import gateway_service_pb2_grpc as pb2_grpc
from embedding_service import server as embedding_server
from embedding_service.config import EmbeddingSettings
from embedding_service.core import EmbeddingCore
from embedding_service.models.fingerprint import FingerprintModel
from embedding_service.models.logmel import LogMelModel
from embedding_service.models.registry import ModelRegistry
from gateway import server as gateway_server
from metadata_service import server as metadata_server
from metadata_service.blobs import FileBlobs
from metadata_service.config import MetadataSettings
from metadata_service.core import MetadataCore
from metadata_service.store import open_store
from search_service import server as search_server
from search_service.config import SearchSettings
from search_service.core import SearchCore
from search_service.store import MilvusVectorStore

from gateway_support import LOCAL, TIMEOUT, close_core, gateway_settings, start


@dataclasses.dataclass
class Stack:
    gateway: pb2_grpc.GatewayServiceStub
    # The gateway's channel, for the stubs of its other services (speakers, import jobs).
    channel: grpc.Channel
    import_root: pathlib.Path
    # A folder outside the import root, with audio in it, that the gateway must never read.
    outside: pathlib.Path
    addresses: dict[str, str]
    embedding_core: EmbeddingCore
    search_core: SearchCore
    metadata_core: MetadataCore


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    metadata_store = open_store(f"sqlite:///{data / 'metadata.db'}")
    vector_store = MilvusVectorStore.open(SearchSettings(milvus_uri=str(data / "vectors.db")))
    cores = {
        "metadata": MetadataCore(metadata_store, FileBlobs(data / "audio")),
        "search": SearchCore(vector_store),
        "embedding": embedding_server.build_core(
            EmbeddingSettings(listen=LOCAL), ModelRegistry([LogMelModel(), FingerprintModel()])
        ),
    }
    servers = {
        "metadata": start(metadata_server.build_server(MetadataSettings(listen=LOCAL), cores["metadata"])),
        "search": start(search_server.build_server(SearchSettings(listen=LOCAL), cores["search"])),
        "embedding": start(embedding_server.build_server(EmbeddingSettings(listen=LOCAL), cores["embedding"])),
    }
    addresses = {name: f"127.0.0.1:{running.port}" for name, running in servers.items()}
    import_root = tmp_path_factory.mktemp("imports")
    settings = gateway_settings(addresses, import_root)
    gateway_core = gateway_server.build_core(settings)
    gateway = start(gateway_server.build_server(settings, gateway_core))
    channel = grpc.insecure_channel(f"127.0.0.1:{gateway.port}")
    grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
    try:
        yield Stack(
            gateway=pb2_grpc.GatewayServiceStub(channel),
            channel=channel,
            import_root=import_root,
            outside=tmp_path_factory.mktemp("outside"),
            addresses=addresses,
            embedding_core=cores["embedding"],
            search_core=cores["search"],
            metadata_core=cores["metadata"],
        )
    finally:
        channel.close()
        gateway.stop(0)
        close_core(gateway_core)
        for running in servers.values():
            running.stop(0)
        vector_store.close()
        metadata_store.close()


@pytest.fixture(scope="session")
def gateway(stack) -> pb2_grpc.GatewayServiceStub:
    return stack.gateway


_names = itertools.count()


@pytest.fixture(scope="session")
def new_collection(gateway):
    """new_collection(prefix="c") creates a fresh logmel collection through the gateway and returns its name."""

    def create(prefix: str = "c", **fields) -> str:
        name = f"{prefix}_{next(_names)}"
        gateway.CreateCollection(pb2.CreateCollectionRequest(name=name, model="logmel", **fields), timeout=TIMEOUT)
        return name

    return create
