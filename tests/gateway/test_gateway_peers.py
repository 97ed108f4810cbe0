"""A peer that is down: the gateway answers UNAVAILABLE with a reason, and leaves no half-made clip visible.

Each test wires a second gateway to a peer server of its own that shares the stack's store, then stops that server.
"""

import contextlib

import grpc
import pytest

from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.gateway.v1 import gateway_service_pb2_grpc as pb2_grpc
from audiosearch.sdk.rpc_errors import error_info
from audiosearch.type.v1 import types_pb2
from embedding_service import server as embedding_server
from embedding_service.config import EmbeddingSettings
from gateway import server as gateway_server
from metadata_service import server as metadata_server
from metadata_service.config import MetadataSettings
from search_service import server as search_server
from search_service.config import SearchSettings

from gateway_support import (
    LOCAL,
    TIMEOUT,
    all_clips,
    audio_file,
    close_core,
    footprint,
    gateway_settings,
    ingest,
    start,
)

UNAVAILABLE = grpc.StatusCode.UNAVAILABLE
PEER_NAMES = {
    "embedding": "audiosearch.embedding.v1.EmbeddingService",
    "search": "audiosearch.search.v1.SearchService",
    "metadata": "audiosearch.metadata.v1.MetadataService",
}


@contextlib.contextmanager
def gateway_with_a_fragile(stack, peer: str):
    """(gateway stub, stop) where the gateway's `peer` is a server of its own that `stop()` takes down."""
    if peer == "search":
        fragile = search_server.build_server(SearchSettings(listen=LOCAL), stack.search_core)
    elif peer == "metadata":
        fragile = metadata_server.build_server(MetadataSettings(listen=LOCAL), stack.metadata_core)
    else:
        fragile = embedding_server.build_server(EmbeddingSettings(listen=LOCAL), stack.embedding_core)
    start(fragile)
    settings = gateway_settings({**stack.addresses, peer: f"127.0.0.1:{fragile.port}"}, stack.import_root)
    core = gateway_server.build_core(settings)
    running = start(gateway_server.build_server(settings, core))
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        yield pb2_grpc.GatewayServiceStub(channel), lambda: fragile.stop(0)
    finally:
        channel.close()
        running.stop(0)
        close_core(core)
        fragile.stop(0)


@contextlib.contextmanager
def peer_unavailable(peer: str):
    with pytest.raises(grpc.RpcError) as raised:
        yield
    error = raised.value
    assert error.code() == UNAVAILABLE, f"{error.code().name}: {error.details()}"
    info = error_info(error)
    assert info is not None and info.reason, "UNAVAILABLE came without an ErrorInfo reason"
    assert PEER_NAMES[peer] in error.details(), f"the message does not name the peer: {error.details()}"


def ready_ids(gateway, collection: str) -> list[int]:
    return [clip.id for clip in all_clips(gateway, collection) if clip.state == types_pb2.CLIP_STATE_READY]


def test_search_service_down(stack, gateway, new_collection):
    collection = new_collection()
    kept = ingest(gateway, collection, audio_file("tone", 1)).clip
    content = audio_file("siren", 1)
    with gateway_with_a_fragile(stack, "search") as (fragile_gateway, stop):
        before_outage = ingest(fragile_gateway, collection, audio_file("chirp", 1)).clip
        assert before_outage.state == types_pb2.CLIP_STATE_READY
        stop()

        with peer_unavailable("search"):
            ingest(fragile_gateway, collection, content)
        with peer_unavailable("search"):
            fragile_gateway.SearchAudio(
                pb2.SearchAudioRequest(collection=collection, audio=content, top_k=5), timeout=TIMEOUT
            )
        with peer_unavailable("search"):
            fragile_gateway.GetStats(pb2.GetStatsRequest(), timeout=TIMEOUT)
        # What does not need the search service still works.
        assert fragile_gateway.GetClip(pb2.GetClipRequest(id=kept.id), timeout=TIMEOUT).id == kept.id

    # The failed ingest left no READY clip: searches cannot return it, and ingesting it again really adds it.
    assert sorted(ready_ids(gateway, collection)) == sorted([kept.id, before_outage.id])
    again = ingest(gateway, collection, content)
    assert not again.duplicate
    assert again.clip.state == types_pb2.CLIP_STATE_READY
    hits = gateway.SearchAudio(pb2.SearchAudioRequest(collection=collection, audio=content, top_k=1), timeout=TIMEOUT)
    assert hits.hits[0].clip.id == again.clip.id
    assert sorted(ready_ids(gateway, collection)) == sorted([kept.id, before_outage.id, again.clip.id])
    assert len(all_clips(gateway, collection)) == 3


def test_embedding_service_down(stack, gateway, new_collection):
    collection = new_collection()
    ingest(gateway, collection, audio_file("tone", 1))
    before = footprint(gateway, collection)
    with gateway_with_a_fragile(stack, "embedding") as (fragile_gateway, stop):
        stop()
        with peer_unavailable("embedding"):
            ingest(fragile_gateway, collection, audio_file("siren", 2))
        with peer_unavailable("embedding"):
            fragile_gateway.SearchAudio(
                pb2.SearchAudioRequest(collection=collection, audio=audio_file("siren", 2), top_k=5), timeout=TIMEOUT
            )
        with peer_unavailable("embedding"):
            fragile_gateway.CreateCollection(pb2.CreateCollectionRequest(name="while_down", model="logmel"))
    assert footprint(gateway, collection) == before
    names = {row.name for row in gateway.GetStats(pb2.GetStatsRequest(), timeout=TIMEOUT).collections}
    assert "while_down" not in names


def test_metadata_service_down(stack, gateway, new_collection):
    collection = new_collection()
    clip = ingest(gateway, collection, audio_file("tone", 1)).clip
    before = footprint(gateway, collection)
    with gateway_with_a_fragile(stack, "metadata") as (fragile_gateway, stop):
        stop()
        with peer_unavailable("metadata"):
            ingest(fragile_gateway, collection, audio_file("siren", 3))
        with peer_unavailable("metadata"):
            fragile_gateway.GetClip(pb2.GetClipRequest(id=clip.id), timeout=TIMEOUT)
        with peer_unavailable("metadata"):
            fragile_gateway.DeleteClip(pb2.DeleteClipRequest(id=clip.id), timeout=TIMEOUT)
        with peer_unavailable("metadata"):
            fragile_gateway.ListCollections(pb2.ListCollectionsRequest(), timeout=TIMEOUT)
    assert footprint(gateway, collection) == before
