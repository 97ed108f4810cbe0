"""The internal APIs' converters (audiosearch/runtime/convert.py): each direction undoes the other, and a vector
crosses a decode without a copy."""

import inspect

import pytest

from audiosearch.runtime import convert, domain
from search_service.core import SearchCore

SEGMENT = domain.Segment([0.5, -1.0, 2.0], 1.0, 3.0)
LABELS = domain.Labels("alice", "speech", ("studio", "take 2"))


def _plain(segment: domain.Segment) -> tuple:
    return list(segment.vector), segment.start_seconds, segment.end_seconds


def test_embed_options_and_response_round_trip():
    options = domain.SegmentOptions(2.0, 0.5)
    assert convert.embed_options_from_proto(convert.embed_options_to_proto("ecapa", options)) == ("ecapa", options)
    audio = domain.AudioInfo(3.0, 16000, 1, "wav")
    decoded_audio, segments = convert.embed_response_from_proto(convert.embed_response_to_proto("m", audio, [SEGMENT]))
    assert decoded_audio == audio and [_plain(segment) for segment in segments] == [_plain(SEGMENT)]


def test_clip_vectors_hits_and_search_results_round_trip():
    clip = domain.ClipVectors(7, LABELS, 3.0, [SEGMENT, domain.Segment([1.0, 0.0, 0.0], 3.0, 5.0)])
    decoded = convert.clip_vectors_from_proto(convert.clip_vectors_to_proto(clip))
    assert (decoded.clip_id, decoded.labels, decoded.duration_seconds) == (7, LABELS, 3.0)
    assert [_plain(segment) for segment in decoded.segments] == [_plain(segment) for segment in clip.segments]
    results = [[domain.Hit(1, 0.75, 0.0, 2.0), domain.Hit(2, 0.5, 1.0, 3.0)], []]
    assert convert.search_response_from_proto(convert.search_response_to_proto(results)) == results


def test_a_search_request_decodes_to_the_cores_arguments_in_its_order():
    search_filter = domain.SearchFilter(speakers=("alice",), min_duration_seconds=1.5)
    message = convert.search_request_to_proto("voices", [[1.0, 0.0], [0.0, 1.0]], 5, search_filter, [42], 128)
    collection, vectors, top_k, decoded_filter, exclude, breadth = convert.search_request_from_proto(message)
    assert (collection, [list(v) for v in vectors], top_k) == ("voices", [[1.0, 0.0], [0.0, 1.0]], 5)
    assert (decoded_filter, list(exclude), breadth) == (search_filter, [42], 128)
    names = list(inspect.signature(SearchCore.search).parameters)[1:]
    assert names == ["collection", "queries", "top_k", "search_filter", "exclude_clip_ids", "search_breadth"]


def test_a_decoded_vector_is_the_messages_own_field_not_a_copy():
    message = convert.embed_response_to_proto("m", domain.AudioInfo(), [SEGMENT])
    [segment] = convert.embed_response_from_proto(message)[1]
    message.embeddings[0].vector[0] = 9.0
    assert segment.vector[0] == pytest.approx(9.0)
