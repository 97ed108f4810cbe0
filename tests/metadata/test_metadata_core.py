"""MetadataCore against real stores (SQLite and MariaDB): what a user of the service would notice."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC

import pytest

from audiosearch.runtime import domain
from audiosearch.sdk import errors
from audiosearch.sdk.errors import AlreadyExists, InvalidArgument, NotFound

READY = domain.ClipState.READY


@pytest.fixture
def speakers(core):
    core.create_collection(domain.Collection("speakers", "ecapa_tdnn", 192))
    return "speakers"


def test_collection_round_trips_with_utc_microsecond_time(core):
    segments = domain.SegmentOptions(window_seconds=2.0, hop_seconds=0.5)
    created = core.create_collection(domain.Collection("long_talks", "panns_cnn14", 2048, "l2", segments))

    fetched = core.get_collection("long_talks")

    assert fetched == created
    assert (fetched.model, fetched.dimension, fetched.metric, fetched.segments) == ("panns_cnn14", 2048, "L2", segments)
    assert fetched.create_time.tzinfo == UTC
    assert fetched.create_time.microsecond == created.create_time.microsecond


def test_duplicate_collection_is_already_exists(core, speakers):
    with pytest.raises(AlreadyExists, match="speakers"):
        core.create_collection(domain.Collection(speakers, "other_model", 8))


@pytest.mark.parametrize(
    "collection",
    [
        domain.Collection("1starts_with_digit", "m", 8),
        domain.Collection("has-dash", "m", 8),
        domain.Collection("", "m", 8),
        domain.Collection("a" * 65, "m", 8),
        domain.Collection("ok", "", 8),
        domain.Collection("ok", "m", 0),
        domain.Collection("ok", "m", 32769),
        domain.Collection("ok", "m", 8, "HAMMING"),
        domain.Collection("ok", "m", 8, segments=domain.SegmentOptions(window_seconds=1.0, hop_seconds=2.0)),
    ],
)
def test_invalid_collection_is_refused(core, collection):
    with pytest.raises(InvalidArgument):
        core.create_collection(collection)
    assert core.list_collections()[0] == []


def test_list_collections_pages_through_all_by_name(core):
    names = [f"c{index:02d}" for index in range(7)]
    for name in reversed(names):
        core.create_collection(domain.Collection(name, "m", 4))
    seen, token = [], ""
    while True:
        page, token = core.list_collections(page_size=3, page_token=token)
        seen += [collection.name for collection in page]
        if not token:
            break
    assert seen == names


def test_deleting_a_collection_deletes_its_clips(core, speakers, clip_of):
    core.create_collection(domain.Collection("other", "m", 4))
    doomed = [core.create_clip(clip_of(speakers, n))[0] for n in range(3)]
    kept, _ = core.create_clip(clip_of("other", 0))

    assert core.delete_collection(speakers) == 3

    with pytest.raises(NotFound):
        core.get_collection(speakers)
    assert core.batch_get_clips([clip.id for clip in doomed]) == []
    assert core.get_clip(kept.id) == kept
    core.create_collection(domain.Collection(speakers, "ecapa_tdnn", 192))
    assert core.list_clips(speakers)[0] == []


def test_deleting_a_missing_collection_is_not_found(core):
    with pytest.raises(NotFound, match="nowhere"):
        core.delete_collection("nowhere")


def test_same_content_returns_the_first_clip(core, speakers, clip_of):
    first, created = core.create_clip(clip_of(speakers, "voice", source="a.wav"))
    again, created_again = core.create_clip(clip_of(speakers, "voice", source="copy-of-a.wav"))

    assert (created, created_again) == (True, False)
    assert again == first
    assert first.state == domain.ClipState.PENDING and first.id > 0


def test_request_id_retry_returns_the_same_clip(core, speakers, clip_of):
    first, _ = core.create_clip(clip_of(speakers, "take-1"), request_id="req-42")
    retried, created = core.create_clip(clip_of(speakers, "take-1"), request_id="req-42")

    assert (retried.id, created) == (first.id, False)


def test_request_id_reused_for_other_content_is_refused(core, speakers, clip_of):
    first, _ = core.create_clip(clip_of(speakers, "take-1"), request_id="req-42")
    with pytest.raises(errors.FailedPrecondition) as refused:
        core.create_clip(clip_of(speakers, "take-2"), request_id="req-42")

    assert refused.value.reason == "REQUEST_ID_REUSED"
    clips, _ = core.list_clips(speakers)
    assert [clip.id for clip in clips] == [first.id]


def test_same_content_in_another_collection_is_another_clip(core, speakers, clip_of):
    core.create_collection(domain.Collection("effects", "panns_cnn10", 512))
    first, _ = core.create_clip(clip_of(speakers, "bang"))
    second, created = core.create_clip(clip_of("effects", "bang"))
    assert created and second.id != first.id


def test_clip_in_missing_collection_is_not_found(core, clip_of):
    with pytest.raises(NotFound, match="nowhere"):
        core.create_clip(clip_of("nowhere", 1))


@pytest.mark.parametrize(
    "fields",
    [
        {"content_sha256": "A" * 64},
        {"content_sha256": "abc"},
        {"source": "x" * 1025},
        {"labels": domain.Labels(speaker="s" * 257)},
        {"labels": domain.Labels(tags=tuple(f"t{n}" for n in range(33)))},
        {"labels": domain.Labels(tags=("",))},
        {"audio": domain.AudioInfo(duration_seconds=-1.0)},
        {"collection": "bad name"},
    ],
)
def test_invalid_clip_is_refused(core, speakers, clip_of, fields):
    with pytest.raises(InvalidArgument):
        core.create_clip(domain.Clip(**{**clip_of(speakers, 1).__dict__, **fields}))
    assert core.count_clips(speakers)["PENDING"] == 0


def test_overlong_request_id_is_refused(core, speakers, clip_of):
    with pytest.raises(InvalidArgument, match="request_id"):
        core.create_clip(clip_of(speakers, 1), request_id="r" * 129)


def test_clip_fields_round_trip(core, speakers, clip_of):
    audio = domain.AudioInfo(duration_seconds=3.25, sample_rate=16000, channels=2, format="flac")
    labels = domain.Labels(speaker="Zoë", sound_class="speech", tags=("b", "a", "b", "ünïcode"))
    created, _ = core.create_clip(clip_of(speakers, 1, source="dir/zoe.flac", audio=audio, labels=labels))

    fetched = core.get_clip(created.id)

    assert fetched == created
    assert fetched.labels.tags == ("b", "a", "ünïcode")
    assert (fetched.source, fetched.audio) == ("dir/zoe.flac", audio)
    assert fetched.create_time.tzinfo == UTC


def test_missing_clip_is_not_found(core):
    with pytest.raises(NotFound, match="123456789"):
        core.get_clip(123456789)


def test_batch_get_keeps_request_order_and_leaves_out_missing(core, speakers, clip_of):
    ids = [core.create_clip(clip_of(speakers, n))[0].id for n in range(4)]
    asked = [ids[2], 999_999_999, ids[0], ids[3]]
    assert [clip.id for clip in core.batch_get_clips(asked)] == [ids[2], ids[0], ids[3]]
    with pytest.raises(InvalidArgument):
        core.batch_get_clips(list(range(1001)))


def test_pagination_visits_every_clip_exactly_once(core, speakers, clip_of):
    ids = {core.create_clip(clip_of(speakers, n))[0].id for n in range(23)}
    seen, token, pages = [], "", 0
    while True:
        page, token = core.list_clips(speakers, page_size=5, page_token=token)
        seen += [clip.id for clip in page]
        pages += 1
        if not token:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == len(ids)
    assert pages == 5


@pytest.mark.parametrize("token", ["not base64 !", "bm90LWEtdG9rZW4=", "Y29sbGVjdGlvbjpzcGVha2Vycw=="])
def test_invalid_page_token_is_refused(core, speakers, token):
    with pytest.raises(InvalidArgument, match="page_token"):
        core.list_clips(speakers, page_token=token)


def test_negative_page_size_is_refused(core, speakers):
    with pytest.raises(InvalidArgument, match="page_size"):
        core.list_clips(speakers, page_size=-1)


def _ids(core, collection, **kwargs):
    return {clip.id for clip in core.list_clips(collection, page_size=1000, **kwargs)[0]}


def test_filters_return_only_matching_clips(core, speakers, clip_of):
    def add(seed, speaker="", sound_class="", tags=(), duration=1.0):
        labels = domain.Labels(speaker, sound_class, tags)
        return core.create_clip(clip_of(speakers, seed, labels=labels, audio=domain.AudioInfo(duration)))[0].id

    alice = add(1, "alice", "speech", ("phone",), 2.0)
    bob = add(2, "bob", "speech", ("studio", "male"), 10.0)
    dog = add(3, "", "bark", ("outdoor", "phone"), 0.5)
    carol = add(4, "carol", "speech", (), 30.0)
    core.update_clip_state(bob, READY)

    def matching(state=None, **fields):
        return _ids(core, speakers, search_filter=domain.SearchFilter(**fields), state=state)

    assert matching() == {alice, bob, dog, carol}
    assert matching(speakers=("alice", "carol")) == {alice, carol}
    assert matching(sound_classes=("bark",)) == {dog}
    assert matching(tags_any=("phone", "male")) == {alice, bob, dog}
    assert matching(min_duration_seconds=1.0) == {alice, bob, carol}
    assert matching(max_duration_seconds=10.0) == {alice, bob, dog}
    assert matching(min_duration_seconds=1.0, max_duration_seconds=10.0, tags_any=("phone",)) == {alice}
    assert matching(state=READY) == {bob}
    assert matching(speakers=("ALICE",)) == set()
    with pytest.raises(InvalidArgument):
        matching(min_duration_seconds=5.0, max_duration_seconds=1.0)


def test_filter_values_with_sql_syntax_are_plain_values(core, speakers, clip_of):
    sneaky = "x' OR '1'='1"
    quoted, _ = core.create_clip(clip_of(speakers, 1, labels=domain.Labels(speaker=sneaky, tags=('say "hi"; --',))))
    core.create_clip(clip_of(speakers, 2, labels=domain.Labels(speaker="alice", tags=("plain",))))

    def matching(**fields):
        return _ids(core, speakers, search_filter=domain.SearchFilter(**fields))

    assert matching(speakers=(sneaky,)) == {quoted.id}
    assert matching(speakers=("' OR 1=1 --",)) == set()
    assert matching(sound_classes=('x") OR 1=1; DROP TABLE clips; --',)) == set()
    assert matching(tags_any=('say "hi"; --',)) == {quoted.id}
    assert core.count_clips(speakers)["PENDING"] == 2


def test_find_by_content_hash(core, speakers, clip_of):
    created, _ = core.create_clip(clip_of(speakers, "needle"))
    assert core.find_by_content_hash(speakers, created.content_sha256) == created
    with pytest.raises(NotFound):
        core.find_by_content_hash(speakers, clip_of(speakers, "absent").content_sha256)
    with pytest.raises(InvalidArgument):
        core.find_by_content_hash(speakers, "not-a-hash")


def test_update_state_stores_audio_facts_and_segment_count(core, speakers, clip_of):
    created, _ = core.create_clip(clip_of(speakers, 1, source="a.mp3"))
    audio = domain.AudioInfo(duration_seconds=61.5, sample_rate=44100, channels=2, format="mp3")

    ready = core.update_clip_state(created.id, READY, audio, segment_count=12)
    failed = core.update_clip_state(created.id, domain.ClipState.FAILED)

    assert (ready.state, ready.audio, ready.segment_count) == (READY, audio, 12)
    assert (failed.state, failed.audio, failed.segment_count) == (domain.ClipState.FAILED, audio, 12)
    assert core.get_clip(created.id) == failed
    assert failed.create_time == created.create_time and failed.update_time >= ready.update_time
    with pytest.raises(NotFound):
        core.update_clip_state(987654321, READY)
    with pytest.raises(InvalidArgument, match="state"):
        core.update_clip_state(created.id, None)


def test_delete_clip_is_idempotent(core, speakers, clip_of):
    created, _ = core.create_clip(clip_of(speakers, 1))
    assert core.delete_clip(created.id) is True
    assert core.delete_clip(created.id) is False
    with pytest.raises(NotFound):
        core.get_clip(created.id)


def test_deleted_clip_ids_are_never_reused(core, speakers, clip_of):
    # Ids are Milvus primary keys: reuse would attach a deleted clip's stale vectors to a new clip.
    created, _ = core.create_clip(clip_of(speakers, 1))
    core.delete_clip(created.id)
    again, was_created = core.create_clip(clip_of(speakers, 1))
    assert was_created and again.id > created.id


def test_count_clips_by_state(core, speakers, clip_of):
    ids = [core.create_clip(clip_of(speakers, n))[0].id for n in range(5)]
    core.update_clip_state(ids[0], READY)
    core.update_clip_state(ids[1], READY)
    core.update_clip_state(ids[2], domain.ClipState.DELETING)
    assert core.count_clips(speakers) == {"PENDING": 2, "READY": 2, "FAILED": 0, "DELETING": 1}
    with pytest.raises(NotFound):
        core.count_clips("nowhere")


@pytest.mark.parametrize("request_id", ["", "retry-me"], ids=["same-content", "same-request-id"])
def test_concurrent_creates_of_one_clip_make_one_record(core, speakers, clip_of, request_id):
    threads = 8
    start = threading.Barrier(threads)

    def create(n):
        start.wait()
        return core.create_clip(clip_of(speakers, "same"), request_id=request_id)

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(create, range(threads)))

    assert len({clip.id for clip, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert core.count_clips(speakers)["PENDING"] == 1


def test_concurrent_different_uploads_with_one_request_id_make_one_clip_and_refuse_the_rest(core, speakers, clip_of):
    threads = 6
    start = threading.Barrier(threads)

    def create(n):
        start.wait()
        try:
            return core.create_clip(clip_of(speakers, f"take-{n}"), request_id="one-id")[1]
        except errors.FailedPrecondition as refused:
            return refused.reason

    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(create, range(threads)))

    assert Counter(outcomes) == {True: 1, "REQUEST_ID_REUSED": threads - 1}
    assert core.count_clips(speakers)["PENDING"] == 1
