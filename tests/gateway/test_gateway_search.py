"""Search through the public API over a small library of every synthetic sound class."""

import grpc
import pytest

from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.runtime import domain
from audiosearch.tools import synth
from audiosearch.type.v1 import types_pb2
from embedding_service.core import EmbedOptions

from gateway_support import TIMEOUT, audio_file, ingest, rpc_error

SEEDS = (0, 1, 2)
QUOTED = 'say "hi" \' or sound_class != "'


@pytest.fixture(scope="module")
def library(gateway, new_collection):
    """A collection of every sound class, three clips each, labelled with their class and a speaker."""
    collection = new_collection("library")
    clips = {}
    for sound_class in synth.CLASSES:
        for seed in SEEDS:
            content = audio_file(sound_class, seed)
            clip = ingest(gateway, collection, content, speaker=f"spk{seed}", sound_class=sound_class).clip
            clips[clip.id] = (clip, content)
    return collection, clips


def search(gateway, collection: str, top_k: int = 10, **query) -> pb2.SearchAudioResponse:
    return gateway.SearchAudio(pb2.SearchAudioRequest(collection=collection, top_k=top_k, **query), timeout=TIMEOUT)


@pytest.mark.parametrize("sound_class", synth.CLASSES)
def test_a_new_clip_finds_its_own_class_first(gateway, library, sound_class):
    collection, _ = library
    response = search(gateway, collection, top_k=3, audio=audio_file(sound_class, 1000, ".flac", sample_rate=22050))
    assert response.model == "logmel"
    classes = [hit.clip.labels.sound_class for hit in response.hits]
    assert classes[0] == sound_class and classes.count(sound_class) >= 2, classes
    scores = [hit.score for hit in response.hits]
    assert scores == sorted(scores, reverse=True)
    assert all(hit.clip.state == types_pb2.CLIP_STATE_READY for hit in response.hits)


def test_search_by_clip_id_leaves_the_clip_out(gateway, library):
    collection, clips = library
    clip = next(clip for clip, _ in clips.values() if clip.labels.sound_class == "siren")
    hits = search(gateway, collection, top_k=5, clip_id=clip.id).hits
    assert len(hits) == 5
    assert clip.id not in [hit.clip.id for hit in hits]
    assert [hit.clip.labels.sound_class for hit in hits[:2]] == ["siren", "siren"]


def test_search_by_an_unknown_clip_id_is_not_found(gateway, library):
    with rpc_error(grpc.StatusCode.NOT_FOUND, "CLIP_NOT_FOUND"):
        search(gateway, library[0], clip_id=123456789)


def test_search_by_a_clip_of_another_collection_is_invalid(gateway, library, new_collection):
    other = new_collection()
    clip = ingest(gateway, other, audio_file("tone", 5)).clip
    with rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "WRONG_COLLECTION"):
        search(gateway, library[0], clip_id=clip.id)


def test_search_by_vector_finds_the_clip_it_came_from(stack, gateway, library):
    collection, clips = library
    clip, content = next(item for item in clips.values() if item[0].labels.sound_class == "chirp")
    _, segments = stack.embedding_core.embed(EmbedOptions("logmel"), content=content)

    hits = search(gateway, collection, top_k=3, vector=pb2.VectorQuery(values=segments[0].vector)).hits

    assert hits[0].clip.id == clip.id
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert hits[0].clip == clip


def test_min_score_drops_the_weaker_hits(gateway, library):
    collection, _ = library
    query = audio_file("vowel", 2000)
    everything = search(gateway, collection, top_k=30, audio=query).hits
    threshold = (everything[0].score + everything[-1].score) / 2
    strong = search(gateway, collection, top_k=30, audio=query, min_score=threshold).hits
    assert 0 < len(strong) < len(everything)
    assert all(hit.score >= threshold for hit in strong)
    assert [hit.clip.id for hit in strong] == [hit.clip.id for hit in everything[: len(strong)]]
    assert not search(gateway, collection, top_k=30, audio=query, min_score=1.01).hits


def test_search_breadth_reaches_the_index_within_its_bounds(gateway, library):
    collection, clips = library
    clip = next(clip for clip, _ in clips.values() if clip.labels.sound_class == "siren")
    widest = search(gateway, collection, top_k=3, clip_id=clip.id, search_breadth=4096).hits
    assert [hit.clip.labels.sound_class for hit in widest[:2]] == ["siren", "siren"]
    with rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_SEARCH_BREADTH"):
        search(gateway, collection, clip_id=clip.id, search_breadth=4097)


def test_filter_by_sound_class_returns_only_that_class(gateway, library):
    collection, _ = library
    search_filter = types_pb2.SearchFilter(sound_classes=["clicks", "siren"])
    hits = search(gateway, collection, top_k=20, audio=audio_file("tone", 3000), filter=search_filter).hits
    assert sorted(hit.clip.labels.sound_class for hit in hits) == ["clicks"] * 3 + ["siren"] * 3


def test_filter_by_speaker_returns_only_that_speaker(gateway, library):
    collection, _ = library
    hits = search(
        gateway, collection, top_k=50, audio=audio_file("tone", 3000), filter=types_pb2.SearchFilter(speakers=["spk1"])
    ).hits
    assert len(hits) == len(synth.CLASSES)
    assert {hit.clip.labels.speaker for hit in hits} == {"spk1"}


def test_a_filter_value_with_quotes_is_a_plain_value(gateway, new_collection):
    collection = new_collection()
    for seed in SEEDS:
        ingest(gateway, collection, audio_file("tone", seed), speaker="ann", sound_class="tone")
    quoted = ingest(gateway, collection, audio_file("tone", 99), speaker=QUOTED, sound_class=QUOTED).clip
    query = audio_file("tone", 3000)
    exact = search(gateway, collection, top_k=50, audio=query, filter=types_pb2.SearchFilter(sound_classes=[QUOTED]))
    assert [hit.clip.id for hit in exact.hits] == [quoted.id]
    assert exact.hits[0].clip.labels.speaker == QUOTED
    for value in ('" or sound_class != "', "tone' or '1'='1", 'tone" || clip_id > 0 || "'):
        hits = search(gateway, collection, top_k=50, audio=query, filter=types_pb2.SearchFilter(speakers=[value])).hits
        assert not hits, f"filter value {value!r} matched {len(hits)} clips"


def test_hits_never_include_clips_that_are_not_ready(stack, gateway, library):
    """A clip whose record is not READY (an ingest in flight, or a delete) is not returned, though its vectors are."""
    collection, clips = library
    clip, content = next(item for item in clips.values() if item[0].labels.sound_class == "white_noise")

    stack.metadata_core.update_clip_state(clip.id, domain.ClipState.PENDING)
    try:
        hits = search(gateway, collection, top_k=5, audio=content).hits
        assert clip.id not in [hit.clip.id for hit in hits]
        assert len(hits) == 5
    finally:
        stack.metadata_core.update_clip_state(clip.id, domain.ClipState.READY)
    assert search(gateway, collection, top_k=1, audio=content).hits[0].clip.id == clip.id
