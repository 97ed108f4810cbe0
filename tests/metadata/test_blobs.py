"""Kept audio in the metadata service: the blob stores (a local folder, and S3 on a real moto_server) and ClipAudio
over a real SQLite store: stored once by hash, read back exactly, deleted with the last clip that references it."""

import hashlib
import itertools
import uuid

import pytest

from audiosearch.runtime import domain
from audiosearch.sdk import errors
from audiosearch.sdk.errors import SettingsError
from audiosearch.sdk.upload import MAX_CHUNK_BYTES
from metadata_service import blobs as blobs_module
from metadata_service import clip_audio
from metadata_service.blobs import FileBlobs, S3Credentials, open_blobs
from metadata_service.clip_audio import ClipAudio
from metadata_service.core import MetadataCore
from metadata_service.store import open_store

_names = itertools.count()


@pytest.fixture(params=["file", "s3"])
def blobs(request, tmp_path):
    if request.param == "file":
        return open_blobs(f"file://{tmp_path / 'audio'}")
    # A bucket per test: listings see only this test's blobs.
    return open_blobs(f"s3://audio-{uuid.uuid4().hex[:12]}/kept", request.getfixturevalue("s3"))


@pytest.fixture
def core(blobs, tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/metadata.db")
    yield MetadataCore(store, blobs)
    store.close()


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def read_all(blobs, digest: str) -> bytes:
    stored = blobs.open(digest)
    assert stored is not None
    content = b"".join(stored.chunks)
    assert len(content) == stored.size_bytes
    return content


def test_a_blob_is_stored_once_read_back_exactly_listed_and_deleted(blobs):
    content = bytes(range(256)) * (MAX_CHUNK_BYTES // 100)  # a few chunks
    digest = sha256(content)
    assert blobs.open(digest) is None
    assert blobs.put(digest, content) is True
    assert blobs.put(digest, content) is False  # stored once
    assert read_all(blobs, digest) == content
    assert [name for name, _ in blobs.list()] == [digest]
    blobs.delete(digest)
    blobs.delete(digest)  # deleting twice is not an error
    assert blobs.open(digest) is None
    assert list(blobs.list()) == []


def test_a_folder_store_leaves_no_temporary_file(tmp_path):
    store = FileBlobs(tmp_path / "audio")
    content = b"abc" * 1000
    store.put(sha256(content), content)
    files = [path.name for path in (tmp_path / "audio").rglob("*") if path.is_file()]
    assert files == [sha256(content)]


@pytest.fixture(params=["syncfs", "fsync each"])
def folder_store(request, tmp_path, monkeypatch):
    """A folder store flushing batches with one syncfs (Linux), or each file and folder where there is none."""
    if request.param == "fsync each":
        monkeypatch.setattr(blobs_module, "_syncfs", lambda folder: False)
    return FileBlobs(tmp_path / "audio")


def test_a_folder_batch_stores_the_new_blobs_and_leaves_no_temporary_file(folder_store):
    contents = [bytes([n]) * 5000 for n in range(5)]
    folder_store.put(sha256(contents[0]), contents[0])
    folder_store.put_many({sha256(content): content for content in contents})
    for content in contents:
        assert b"".join(folder_store.open(sha256(content)).chunks) == content
    files = sorted(path.name for path in folder_store.root.rglob("*") if path.is_file())
    assert files == sorted(sha256(content) for content in contents)


def test_a_folder_batch_that_cannot_write_one_blob_places_none(folder_store):
    contents = [bytes([n]) * 5000 for n in range(20)]
    (folder_store.root / sha256(contents[-1])[:2]).write_bytes(b"not a folder")
    with pytest.raises(errors.Unavailable) as caught:
        folder_store.put_many({sha256(content): content for content in contents})
    assert caught.value.reason == "AUDIO_STORE_UNAVAILABLE"
    assert [path.name for path in folder_store.root.rglob("*") if path.is_file()] == [sha256(contents[-1])[:2]]


@pytest.mark.parametrize(
    "url",
    ["", "file://", "http://bucket/x", "s3://", "s3://UPPER/x", "s3://a/x", "ftp://x"],
)
def test_a_bad_audio_url_is_a_settings_error(url):
    with pytest.raises(SettingsError):
        open_blobs(url)


def test_an_unreachable_s3_fails_fast_as_unavailable():
    # Nothing listens on port 1.
    with pytest.raises(errors.Unavailable) as caught:
        open_blobs("s3://audio/kept", S3Credentials("http://127.0.0.1:1", "us-east-1", "test", "test"))
    assert caught.value.reason == "AUDIO_STORE_UNAVAILABLE"


def collection(core, keep_audio=True) -> str:
    name = f"c{next(_names)}"
    core.create_collection(domain.Collection(name, "logmel", 4, keep_audio=keep_audio))
    return name


def clip(core, collection_name: str, content: bytes) -> domain.Clip:
    created, _ = core.create_clip(domain.Clip(0, collection_name, sha256(content)))
    return created


def test_put_marks_the_clip_and_read_returns_its_bytes(core):
    content = b"RIFF" + bytes(5000)
    kept, stored = core.audio.put(clip(core, collection(core), content).id, content)
    assert stored and kept.audio_kept and core.get_clip(kept.id).audio_kept
    blob, chunks = core.audio.read(kept.id)
    assert b"".join(chunks) == content
    assert (blob.sha256, blob.size_bytes) == (sha256(content), len(content))


def test_put_refuses_bytes_of_another_hash_and_a_collection_that_keeps_no_audio(core, blobs):
    content = b"one"
    target = clip(core, collection(core), content)
    with pytest.raises(errors.InvalidArgument) as caught:
        core.audio.put(target.id, b"two")
    assert caught.value.reason == "CONTENT_HASH_MISMATCH"
    unkept = clip(core, collection(core, keep_audio=False), content)
    with pytest.raises(errors.FailedPrecondition) as caught:
        core.audio.put(unkept.id, content)
    assert caught.value.reason == "AUDIO_NOT_KEPT"
    with pytest.raises(errors.FailedPrecondition) as caught:
        core.audio.read(unkept.id)
    assert caught.value.reason == "AUDIO_NOT_KEPT"
    with pytest.raises(errors.NotFound):
        core.audio.put(10**12, content)
    assert list(blobs.list()) == []


def test_a_shared_blob_goes_with_the_last_clip_that_references_it(core, blobs):
    content = b"shared audio"
    first, second = collection(core), collection(core)
    a, b = clip(core, first, content), clip(core, second, content)
    assert core.audio.put(a.id, content)[1] is True
    assert core.audio.put(b.id, content)[1] is False  # stored once for both collections
    assert core.delete_clip(a.id)
    assert read_all(blobs, sha256(content)) == content  # the other collection still references it
    assert core.delete_collection(second) == 1
    assert list(blobs.list()) == []


def test_dropping_a_collection_deletes_its_audio(core, blobs):
    name = collection(core)
    for index in range(3):
        content = f"clip {index}".encode()
        core.audio.put(clip(core, name, content).id, content)
    assert len(list(blobs.list())) == 3
    core.delete_collection(name)
    assert list(blobs.list()) == []


def test_a_drop_releases_its_blobs_in_chunks_keeping_the_shared_ones(core, blobs, monkeypatch):
    monkeypatch.setattr(clip_audio, "RELEASE_CHUNK", 2)
    name, other = collection(core), collection(core)
    contents = [f"chunked clip {index}".encode() for index in range(5)]
    for content in contents:
        core.audio.put(clip(core, name, content).id, content)
    core.audio.put(clip(core, other, contents[2]).id, contents[2])  # one blob shared with another collection
    core.delete_collection(name)
    assert [name for name, _ in blobs.list()] == [sha256(contents[2])]
    assert read_all(blobs, sha256(contents[2])) == contents[2]


def test_orphan_blobs_are_removed_and_referenced_ones_kept(core, blobs):
    content = b"referenced"
    core.audio.put(clip(core, collection(core), content).id, content)
    orphan = b"left by a crash"
    blobs.put(sha256(orphan), orphan)
    assert core.audio.remove_orphans(3600, dry_run=False) == 0  # too young
    assert core.audio.remove_orphans(0, dry_run=True) == 1
    assert blobs.open(sha256(orphan)) is not None
    assert core.audio.remove_orphans(0, dry_run=False) == 1
    assert [name for name, _ in blobs.list()] == [sha256(content)]
    with pytest.raises(errors.InvalidArgument):
        core.audio.remove_orphans(-1, dry_run=False)


def test_a_batch_put_keeps_each_clip_stores_each_blob_once_and_lists_the_missing(core, blobs):
    name, other = collection(core), collection(core)
    contents = [f"batch clip {index}".encode() for index in range(3)]
    clips = [clip(core, name, content) for content in contents]
    shared = clip(core, other, contents[0])  # the same bytes in another collection: one blob for both
    asked = [(item.id, content) for item, content in zip(clips, contents, strict=True)]
    kept, missing = core.audio.put_many([*asked, (10**12, b"gone"), (shared.id, contents[0])])
    assert [item.id for item in kept] == [*(item.id for item in clips), shared.id]
    assert all(item.audio_kept for item in kept) and missing == [10**12]
    assert all(core.get_clip(item.id).audio_kept for item in [*clips, shared])
    assert sorted(name for name, _ in blobs.list()) == sorted(map(sha256, contents))
    again, missing = core.audio.put_many(asked)  # a retry changes nothing
    assert [item.id for item in again] == [item.id for item in clips] and missing == []
    assert b"".join(core.audio.read(clips[2].id)[1]) == contents[2]


def test_a_batch_put_refuses_the_whole_batch_unwritten(core, blobs):
    good, bad = b"good bytes", b"bad bytes"
    name = collection(core)
    first, second = clip(core, name, good), clip(core, name, bad)
    with pytest.raises(errors.InvalidArgument) as caught:
        core.audio.put_many([(first.id, good), (second.id, b"not its bytes")])
    assert caught.value.reason == "CONTENT_HASH_MISMATCH"
    unkept = clip(core, collection(core, keep_audio=False), bad)
    with pytest.raises(errors.FailedPrecondition) as caught:
        core.audio.put_many([(first.id, good), (unkept.id, bad)])
    assert caught.value.reason == "AUDIO_NOT_KEPT"
    large = bytes(MAX_CHUNK_BYTES + 1)
    for batch in ([(first.id, large)], [(first.id, bytes(MAX_CHUNK_BYTES))] * 5, [(first.id, good)] * 65):
        with pytest.raises(errors.InvalidArgument) as caught:
            core.audio.put_many(batch)
        assert caught.value.reason == "BATCH_TOO_LARGE"
    assert list(blobs.list()) == []
    assert not core.get_clip(first.id).audio_kept


class _DeletesFirst:
    """The clip records, with one clip deleted just before a batch's clips are marked (a DeleteClip that lands
    between the batch's blob writes and its marks)."""

    def __init__(self, store, clip_id: int) -> None:
        self.store = store
        self.clip_id = clip_id

    def __getattr__(self, name):
        return getattr(self.store, name)

    def mark_audio_kept(self, clip_ids):
        self.store.delete_clip(self.clip_id)
        return self.store.mark_audio_kept(clip_ids)


def test_a_clip_deleted_during_a_batch_put_leaves_no_blob(core, blobs):
    name = collection(core)
    staying, going = clip(core, name, b"staying"), clip(core, name, b"going")
    audio = ClipAudio(_DeletesFirst(core.store, going.id), blobs)
    kept, missing = audio.put_many([(staying.id, b"staying"), (going.id, b"going")])
    assert [item.id for item in kept] == [staying.id] and missing == [going.id]
    assert [name for name, _ in blobs.list()] == [sha256(b"staying")]
