"""Ingest, read, list and delete clips through the public API, as a user sees them."""

import grpc
import pytest

from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.type.v1 import types_pb2

from gateway_support import MIB, TIMEOUT, all_clips, audio_file, ingest, rpc_error, stats_of


def get_clip(gateway, clip_id: int) -> types_pb2.Clip:
    return gateway.GetClip(pb2.GetClipRequest(id=clip_id), timeout=TIMEOUT)


@pytest.mark.parametrize(
    ("suffix", "sample_rate", "channels"),
    [(".wav", 16000, 1), (".flac", 22050, 2), (".ogg", 44100, 1), (".mp3", 32000, 2)],
)
def test_ingest_each_format_gives_a_ready_clip_with_its_audio_facts(
    gateway, new_collection, suffix, sample_rate, channels
):
    collection = new_collection()
    content = audio_file("vowel", 7, suffix, duration_seconds=2.0, sample_rate=sample_rate, channels=channels)

    response = ingest(gateway, collection, content, source=f"voice{suffix}", speaker="ann", sound_class="vowel")

    assert not response.duplicate
    clip = get_clip(gateway, response.clip.id)
    assert clip == response.clip
    assert clip.state == types_pb2.CLIP_STATE_READY
    assert (clip.collection, clip.source) == (collection, f"voice{suffix}")
    assert (clip.labels.speaker, clip.labels.sound_class) == ("ann", "vowel")
    assert (clip.audio.sample_rate, clip.audio.channels) == (sample_rate, channels)
    assert clip.audio.format == suffix[1:]
    # mp3 encoders pad the start and end a little
    assert clip.audio.duration_seconds == pytest.approx(2.0, abs=0.1)
    assert clip.segment_count == 1
    assert len(clip.content_sha256) == 64
    assert clip.HasField("create_time") and clip.HasField("update_time")
    row = stats_of(gateway, collection)
    assert (row.ready_clips, row.pending_clips, row.failed_clips, row.vectors) == (1, 0, 0, 1)


def test_a_large_file_streams_in_chunks_of_at_most_one_mib(gateway, new_collection):
    collection = new_collection()
    content = audio_file("brown_noise", 2, ".wav", duration_seconds=30.0, sample_rate=44100, channels=2)
    assert len(content) > 5 * MIB
    clip = ingest(gateway, collection, content).clip
    assert clip.state == types_pb2.CLIP_STATE_READY
    assert clip.audio.duration_seconds == pytest.approx(30.0)


def test_the_same_file_twice_is_one_clip(gateway, new_collection):
    collection = new_collection()
    content = audio_file("siren", 4, ".flac")
    first = ingest(gateway, collection, content, source="a.flac")

    second = ingest(gateway, collection, content, source="copy-of-a.flac", sound_class="other")

    assert second.duplicate and not first.duplicate
    assert second.clip.id == first.clip.id
    assert second.clip.source == "a.flac"
    assert [clip.id for clip in all_clips(gateway, collection)] == [first.clip.id]
    row = stats_of(gateway, collection)
    assert (row.ready_clips, row.vectors) == (1, 1)


def test_the_same_file_in_another_collection_is_another_clip(gateway, new_collection):
    content = audio_file("tone", 8)
    first = ingest(gateway, new_collection(), content)
    second = ingest(gateway, new_collection(), content)
    assert not second.duplicate
    assert second.clip.id != first.clip.id


def test_a_retry_with_the_same_request_id_returns_the_first_clip(gateway, new_collection):
    collection = new_collection()
    content = audio_file("clicks", 5)
    first = ingest(gateway, collection, content, request_id="upload-42")
    retry = ingest(gateway, collection, content, request_id="upload-42")
    assert retry.clip.id == first.clip.id
    assert len(all_clips(gateway, collection)) == 1


def test_list_clips_pages_through_every_clip_once(gateway, new_collection):
    collection = new_collection()
    ids = [ingest(gateway, collection, audio_file("chirp", seed)).clip.id for seed in range(5)]

    pages, token = [], ""
    while True:
        response = gateway.ListClips(
            pb2.ListClipsRequest(collection=collection, page_size=2, page_token=token), timeout=TIMEOUT
        )
        pages.append([clip.id for clip in response.clips])
        token = response.next_page_token
        if not token:
            break

    assert [len(page) for page in pages] == [2, 2, 1]
    assert sorted(sum(pages, [])) == sorted(ids)


def test_list_clips_filters_by_label(gateway, new_collection):
    collection = new_collection()
    ingest(gateway, collection, audio_file("tone", 1), speaker="ann", sound_class="tone")
    wanted = ingest(gateway, collection, audio_file("siren", 1), speaker="bob", sound_class="siren").clip
    assert [clip.id for clip in all_clips(gateway, collection, speakers=["bob"])] == [wanted.id]
    assert [clip.id for clip in all_clips(gateway, collection, sound_classes=["siren"])] == [wanted.id]


def test_list_clips_of_an_unknown_collection_is_not_found(gateway):
    with rpc_error(grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND"):
        gateway.ListClips(pb2.ListClipsRequest(collection="nowhere"), timeout=TIMEOUT)


def test_a_bad_page_token_is_invalid(gateway, new_collection):
    with rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN"):
        gateway.ListClips(pb2.ListClipsRequest(collection=new_collection(), page_token="garbage"), timeout=TIMEOUT)


def test_delete_removes_the_record_and_the_vectors(gateway, new_collection):
    collection = new_collection()
    content = audio_file("white_noise", 3)
    kept = ingest(gateway, collection, audio_file("tone", 3)).clip
    doomed = ingest(gateway, collection, content).clip
    assert stats_of(gateway, collection).vectors == 2

    assert gateway.DeleteClip(pb2.DeleteClipRequest(id=doomed.id), timeout=TIMEOUT).deleted

    with rpc_error(grpc.StatusCode.NOT_FOUND, "CLIP_NOT_FOUND"):
        get_clip(gateway, doomed.id)
    row = stats_of(gateway, collection)
    assert (row.ready_clips, row.vectors) == (1, 1)
    assert [clip.id for clip in all_clips(gateway, collection)] == [kept.id]
    # A search with the deleted clip's own audio finds only what is left.
    hits = gateway.SearchAudio(
        pb2.SearchAudioRequest(collection=collection, audio=content, top_k=10), timeout=TIMEOUT
    ).hits
    assert [hit.clip.id for hit in hits] == [kept.id]
    # Deleting again is not an error, and says nothing was deleted.
    assert not gateway.DeleteClip(pb2.DeleteClipRequest(id=doomed.id), timeout=TIMEOUT).deleted
    # The content can come back, as a new clip.
    again = ingest(gateway, collection, content)
    assert not again.duplicate and again.clip.id != doomed.id


def test_get_clip_of_an_unknown_id_is_not_found(gateway):
    with rpc_error(grpc.StatusCode.NOT_FOUND, "CLIP_NOT_FOUND"):
        get_clip(gateway, 987654321)
