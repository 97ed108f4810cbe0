"""Adversarial suite, fields at their limits: every limit of the public API holds exactly at its value and is refused
one step beyond it, with INVALID_ARGUMENT and a reason, leaving nothing behind."""

import grpc
import pytest

from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.runtime import rules
from audiosearch.type.v1 import types_pb2

from gateway_support import TIMEOUT, audio_file, footprint, rpc_error, upload

INVALID = grpc.StatusCode.INVALID_ARGUMENT
CJK = "声"  # three bytes in UTF-8


def _ingest(gateway, collection: str, seed: int, **options):
    request = pb2.IngestOptions(collection=collection, **options)
    return gateway.IngestAudio(upload(request, audio_file("tone", 900 + seed, ".wav", 0.5)), timeout=TIMEOUT)


@pytest.fixture(scope="module")
def collection(new_collection):
    return new_collection("limits")


@pytest.mark.parametrize(
    "name, at_limit, beyond, reason",
    [
        (
            "speaker, ASCII",
            {"labels": types_pb2.Labels(speaker="s" * 256)},
            {"labels": types_pb2.Labels(speaker="s" * 257)},
            "LABEL_TOO_LONG",
        ),
        (
            "speaker, CJK",
            {"labels": types_pb2.Labels(speaker=CJK * 85)},
            {"labels": types_pb2.Labels(speaker=CJK * 86)},
            "LABEL_TOO_LONG",
        ),
        (
            "tag bytes",
            {"labels": types_pb2.Labels(tags=["t" * 256])},
            {"labels": types_pb2.Labels(tags=["t" * 257])},
            "LABEL_TOO_LONG",
        ),
        (
            "tag count",
            {"labels": types_pb2.Labels(tags=[f"t{n}" for n in range(rules.MAX_TAGS)])},
            {"labels": types_pb2.Labels(tags=[f"t{n}" for n in range(rules.MAX_TAGS + 1)])},
            "TOO_MANY_TAGS",
        ),
        ("source", {"source": "s" * 1024}, {"source": "s" * 1025}, None),
        ("request_id", {"request_id": "r" * 128}, {"request_id": "r" * 129}, None),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_ingest_fields_at_and_beyond_their_limits(gateway, collection, name, at_limit, beyond, reason):
    seed = sum(map(ord, name))  # a different clip per case, the same on every run
    before = footprint(gateway, collection)
    with rpc_error(INVALID, reason):
        _ingest(gateway, collection, seed, **beyond)
    assert footprint(gateway, collection) == before
    stored = _ingest(gateway, collection, seed, **at_limit).clip
    assert stored.state == types_pb2.CLIP_STATE_READY


def test_search_and_list_limits(gateway, collection):
    clip = _ingest(gateway, collection, 1).clip
    search = pb2.SearchAudioRequest(collection=collection, clip_id=clip.id)
    search.top_k = rules.MAX_TOP_K
    gateway.SearchAudio(search, timeout=TIMEOUT)
    search.top_k = rules.MAX_TOP_K + 1
    with rpc_error(INVALID, "INVALID_TOP_K"):
        gateway.SearchAudio(search, timeout=TIMEOUT)
    assert (
        len(gateway.ListClips(pb2.ListClipsRequest(collection=collection, page_size=2**31 - 1), timeout=TIMEOUT).clips)
        >= 1
    )
    with rpc_error(INVALID):
        gateway.ListClips(pb2.ListClipsRequest(collection=collection, page_size=-1), timeout=TIMEOUT)


def test_collection_names_at_and_beyond_their_limit(gateway):
    longest = "n" + "x" * 63
    gateway.CreateCollection(pb2.CreateCollectionRequest(name=longest, model="logmel"), timeout=TIMEOUT)
    gateway.DropCollection(pb2.DropCollectionRequest(name=longest), timeout=TIMEOUT)
    with rpc_error(INVALID, "INVALID_COLLECTION_NAME"):
        gateway.CreateCollection(pb2.CreateCollectionRequest(name=longest + "x", model="logmel"), timeout=TIMEOUT)


def test_windows_at_the_hop_limit(gateway):
    segments = types_pb2.SegmentOptions(window_seconds=1.0, hop_seconds=rules.MIN_HOP_SECONDS)
    gateway.CreateCollection(
        pb2.CreateCollectionRequest(name="hop_limit", model="logmel", segments=segments), timeout=TIMEOUT
    )
    gateway.DropCollection(pb2.DropCollectionRequest(name="hop_limit"), timeout=TIMEOUT)
    segments.hop_seconds = rules.MIN_HOP_SECONDS * 0.99
    with rpc_error(INVALID, "INVALID_SEGMENTS"):
        gateway.CreateCollection(
            pb2.CreateCollectionRequest(name="hop_limit", model="logmel", segments=segments), timeout=TIMEOUT
        )
