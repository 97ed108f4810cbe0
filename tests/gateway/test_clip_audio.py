"""Kept audio through the public API, over both blob stores (a local folder, and S3 on a real moto_server): GetClipAudio
returns the exact uploaded bytes or a WAV of a range, deletes leave no blob behind, speaker collections keep nothing
by default, reconcile removes orphan blobs and restores vectors from kept audio, and bad requests get precise codes.

Each backend gets its own metadata service and gateway, beside the session's embedding and search services."""

import hashlib
import io
import itertools
import pathlib
import uuid

import grpc
import pytest
import soundfile

from audiosearch.client import AudioSearchClient
from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.gateway.v1 import gateway_service_pb2_grpc as pb2_grpc
from audiosearch.runtime import domain
from audiosearch.sdk import errors
from audiosearch.sdk.upload import MAX_BATCH_BYTES, MAX_CHUNK_BYTES
from audiosearch.tools.cli.main import main as cli
from gateway import server as gateway_server
from gateway.clients import MetadataClient, SearchClient, connect
from metadata_service import server as metadata_server
from metadata_service.blobs import open_blobs
from metadata_service.config import MetadataSettings
from metadata_service.core import MetadataCore
from metadata_service.store import open_store

from gateway_support import LOCAL, TIMEOUT, audio_file, close_core, gateway_settings, ingest, rpc_error, start

_names = itertools.count()
INVALID, NOT_FOUND, PRECONDITION = (
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
)


class AudioStack:
    def __init__(self, gateway, address, blobs, index, import_root, metadata_address) -> None:
        self.gateway = gateway
        self.address = address
        self.metadata_address = metadata_address
        self.blobs = blobs
        self.index = index
        self.import_root = import_root

    def collection(self, **fields) -> str:
        name = f"kept_{next(_names)}"
        fields.setdefault("model", "logmel")
        self.gateway.CreateCollection(pb2.CreateCollectionRequest(name=name, **fields), timeout=TIMEOUT)
        return name

    def audio(self, collection: str, clip_id: int, **time_range) -> tuple[pb2.GetClipAudioResponse, bytes]:
        request = pb2.GetClipAudioRequest(collection=collection, clip_id=clip_id, **time_range)
        messages = list(self.gateway.GetClipAudio(request, timeout=TIMEOUT))
        assert messages[0].WhichOneof("payload") == "blob"
        assert all(message.WhichOneof("payload") == "chunk" for message in messages[1:])
        return messages[0].blob, b"".join(message.chunk for message in messages[1:])

    def stored(self) -> set[str]:
        return {name for name, _ in self.blobs.list()}


@pytest.fixture(scope="module", params=["file", "s3"])
def kept(request, stack, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"kept-{request.param}")
    if request.param == "file":
        blobs = open_blobs(f"file://{folder / 'audio'}")
    else:
        blobs = open_blobs(f"s3://kept-{uuid.uuid4().hex[:12]}/audio", request.getfixturevalue("s3"))
    store = open_store(f"sqlite:///{folder / 'metadata.db'}")
    metadata = start(metadata_server.build_server(MetadataSettings(listen=LOCAL), MetadataCore(store, blobs)))
    addresses = {**stack.addresses, "metadata": f"127.0.0.1:{metadata.port}"}
    import_root = folder / "imports"
    import_root.mkdir()
    settings = gateway_settings(addresses, import_root)
    core = gateway_server.build_core(settings)
    gateway = start(gateway_server.build_server(settings, core))
    channel = grpc.insecure_channel(f"127.0.0.1:{gateway.port}")
    index = SearchClient(grpc.insecure_channel(addresses["search"]), TIMEOUT)
    try:
        address = f"127.0.0.1:{gateway.port}"
        yield AudioStack(
            pb2_grpc.GatewayServiceStub(channel), address, blobs, index, import_root, addresses["metadata"]
        )
    finally:
        index.channel.close()
        channel.close()
        gateway.stop(0)
        close_core(core)
        metadata.stop(0)
        store.close()


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg"])
def test_get_clip_audio_returns_the_exact_uploaded_bytes(kept, suffix):
    name = kept.collection()
    content = audio_file("tone", 11, suffix, duration_seconds=1.5)
    clip = ingest(kept.gateway, name, content, source=f"a{suffix}").clip
    assert clip.audio_kept
    blob, returned = kept.audio(name, clip.id)
    assert returned == content
    assert hashlib.sha256(returned).hexdigest() == blob.sha256 == clip.content_sha256
    assert blob.size_bytes == len(content)
    assert blob.format == suffix[1:]
    assert blob.content_type == domain.AUDIO_CONTENT_TYPES[suffix[1:]]
    assert (blob.start_seconds, blob.end_seconds) == (0.0, pytest.approx(1.5))


def test_a_time_range_returns_a_wav_of_that_range(kept):
    name = kept.collection()
    clip = ingest(kept.gateway, name, audio_file("chirp", 12, ".flac", duration_seconds=3.0, channels=2)).clip
    blob, wav = kept.audio(name, clip.id, start_seconds=0.5, end_seconds=2.0)
    assert (blob.format, blob.content_type) == ("wav", "audio/wav")
    assert hashlib.sha256(wav).hexdigest() == blob.sha256 and len(wav) == blob.size_bytes
    info = soundfile.info(io.BytesIO(wav))
    assert (info.channels, info.samplerate) == (1, 16000)
    assert info.duration == pytest.approx(1.5, abs=1e-3)
    # An unset end is the clip's end; an end past it is clamped.
    blob, wav = kept.audio(name, clip.id, start_seconds=2.5)
    assert (blob.start_seconds, blob.end_seconds) == (2.5, pytest.approx(3.0))
    assert soundfile.info(io.BytesIO(wav)).duration == pytest.approx(0.5, abs=1e-3)
    blob, _ = kept.audio(name, clip.id, end_seconds=60.0)
    assert (blob.start_seconds, blob.end_seconds) == (0.0, pytest.approx(3.0))


def test_deleting_clips_and_dropping_collections_leaves_no_blob_behind(kept):
    first, second = kept.collection(), kept.collection()
    shared = audio_file("white_noise", 13)
    own = [audio_file("tone", seed) for seed in (14, 15)]
    a = ingest(kept.gateway, first, shared).clip
    ingest(kept.gateway, second, shared)
    clips = [ingest(kept.gateway, first, content).clip for content in own]
    hashes = {a.content_sha256, *(clip.content_sha256 for clip in clips)}
    assert hashes <= kept.stored()
    assert kept.gateway.DeleteClip(pb2.DeleteClipRequest(id=clips[0].id), timeout=TIMEOUT).deleted
    assert clips[0].content_sha256 not in kept.stored()
    assert kept.gateway.DeleteClip(pb2.DeleteClipRequest(id=a.id), timeout=TIMEOUT).deleted
    assert a.content_sha256 in kept.stored()  # the second collection still keeps it
    kept.gateway.DropCollection(pb2.DropCollectionRequest(name=first), timeout=TIMEOUT)
    kept.gateway.DropCollection(pb2.DropCollectionRequest(name=second), timeout=TIMEOUT)
    assert not hashes & kept.stored()


def test_a_speaker_collection_keeps_no_audio_unless_asked(kept):
    speakers = kept.collection(model="", purpose=pb2.CreateCollectionRequest.PURPOSE_SPEAKERS)
    listed = kept.gateway.ListCollections(pb2.ListCollectionsRequest(page_size=1000), timeout=TIMEOUT).collections
    assert not next(item for item in listed if item.name == speakers).keep_audio
    content = audio_file("vowel", 16)
    clip = ingest(kept.gateway, speakers, content, speaker="alice").clip
    assert not clip.audio_kept
    assert clip.content_sha256 not in kept.stored()
    with rpc_error(PRECONDITION, "AUDIO_NOT_KEPT"):
        kept.audio(speakers, clip.id)
    asked = kept.collection(model="", purpose=pb2.CreateCollectionRequest.PURPOSE_SPEAKERS, keep_audio=True)
    assert kept.audio(asked, ingest(kept.gateway, asked, content).clip.id)[1] == content
    unkept = kept.collection(keep_audio=False)
    assert not ingest(kept.gateway, unkept, audio_file("tone", 17)).clip.audio_kept


def test_an_imported_folder_keeps_each_file(kept):
    name = kept.collection()
    folder = kept.import_root / name
    folder.mkdir()
    contents = {f"f{seed}.wav": audio_file("tone", seed) for seed in (18, 19, 20)}
    for filename, content in contents.items():
        (folder / filename).write_bytes(content)
    request = pb2.ImportDirectoryRequest(collection=name, path=str(folder))
    progress = list(kept.gateway.ImportDirectory(request, timeout=TIMEOUT))
    added = [item for item in progress if item.outcome == pb2.ImportDirectoryProgress.OUTCOME_ADDED]
    assert len(added) == 3
    for item in added:
        assert item.clip.audio_kept
        assert kept.audio(name, item.clip.id)[1] == contents[pathlib.PurePath(item.path).name]


def test_a_batch_of_kept_audio_goes_in_calls_under_the_limit_and_large_clips_streamed(kept):
    """An import job's batch: more than MAX_BATCH_BYTES of 1-MiB clips (two batch calls), one clip over 1 MiB (its
    own stream), and a clip deleted meanwhile (reported, its bytes not kept)."""
    name = kept.collection()
    metadata = connect(kept.metadata_address, MetadataClient, TIMEOUT)
    try:
        contents = [uuid.uuid4().bytes * (MAX_CHUNK_BYTES // 16) for _ in range(MAX_BATCH_BYTES // MAX_CHUNK_BYTES + 1)]
        contents.append(uuid.uuid4().bytes * (MAX_CHUNK_BYTES // 8))  # 2 MiB
        gone = uuid.uuid4().bytes
        clips = [
            metadata.create_clip(domain.Clip(0, name, hashlib.sha256(content).hexdigest()), "")[0]
            for content in [*contents, gone]
        ]
        assert metadata.delete_clip(clips[-1].id)
        asked = [(item.id, content) for item, content in zip(clips, [*contents, gone], strict=True)]
        assert metadata.put_clips_audio(asked) == {clips[-1].id}
        assert all(item.audio_kept for item in metadata.batch_get_clips([item.id for item in clips[:-1]]))
        assert kept.stored() >= {hashlib.sha256(content).hexdigest() for content in contents}
        assert hashlib.sha256(gone).hexdigest() not in kept.stored()
    finally:
        metadata.channel.close()


def test_reconcile_removes_orphan_blobs_and_restores_vectors_from_kept_audio(kept):
    name = kept.collection()
    clip = ingest(kept.gateway, name, audio_file("chirp", 21)).clip
    unkept = kept.collection(keep_audio=False)
    lost = ingest(kept.gateway, unkept, audio_file("chirp", 22)).clip
    kept.index.delete(name, [clip.id])
    kept.index.delete(unkept, [lost.id])
    orphan = b"a blob whose clip record never came"
    kept.blobs.put(hashlib.sha256(orphan).hexdigest(), orphan)
    report = kept.gateway.Reconcile(pb2.ReconcileRequest(min_age_seconds=1e-9), timeout=TIMEOUT)
    assert report.orphan_audio_removed == 1
    by_name = {item.name: item for item in report.collections}
    assert by_name[name].vectors_restored == 1 and list(by_name[name].ready_without_vectors) == []
    assert list(by_name[unkept].ready_without_vectors) == [lost.id] and by_name[unkept].vectors_restored == 0
    assert hashlib.sha256(orphan).hexdigest() not in kept.stored()
    assert clip.content_sha256 in kept.stored()
    assert kept.index.get_vectors(name, clip.id)
    hits = kept.gateway.SearchAudio(
        pb2.SearchAudioRequest(collection=name, audio=audio_file("chirp", 21), top_k=1), timeout=TIMEOUT
    ).hits
    assert [hit.clip.id for hit in hits] == [clip.id]


def test_bad_requests_get_precise_codes(kept):
    name, other = kept.collection(), kept.collection()
    clip = ingest(kept.gateway, name, audio_file("tone", 23, duration_seconds=2.0)).clip
    with rpc_error(NOT_FOUND, "CLIP_NOT_FOUND"):
        kept.audio(name, 10**15)
    with rpc_error(NOT_FOUND, "COLLECTION_NOT_FOUND"):
        kept.audio("no_such_collection", clip.id)
    with rpc_error(INVALID, "WRONG_COLLECTION"):
        kept.audio(other, clip.id)
    with rpc_error(INVALID, "INVALID_COLLECTION_NAME"):
        kept.audio("", clip.id)
    for time_range in (
        {"start_seconds": -1.0},
        {"start_seconds": 1.0, "end_seconds": 1.0},
        {"start_seconds": 1.5, "end_seconds": 0.5},
        {"start_seconds": 2.0},
        {"start_seconds": float("nan")},
        {"end_seconds": float("inf")},
        {"end_seconds": 0.0},
    ):
        with rpc_error(INVALID, "INVALID_TIME_RANGE"):
            kept.audio(name, clip.id, **time_range)


def test_the_sdk_and_the_cli_fetch_a_clip_audio(kept, tmp_path, capsys):
    content = audio_file("siren", 24, ".flac", duration_seconds=2.0)
    with AudioSearchClient(kept.address) as client:
        name = f"kept_sdk_{next(_names)}"
        assert client.create_collection(name, "logmel").keep_audio
        clip = client.ingest(content, name).clip
        blob, chunks = client.get_clip_audio(name, clip.id)
        assert b"".join(chunks) == content and blob.content_type == "audio/flac"
        blob, chunks = client.get_clip_audio(name, clip.id, start_seconds=1.0)
        assert soundfile.info(io.BytesIO(b"".join(chunks))).duration == pytest.approx(1.0, abs=1e-3)
        with pytest.raises(errors.NotFound):
            client.get_clip_audio(name, 10**15)
        unkept = f"kept_sdk_{next(_names)}"
        assert not client.create_collection(unkept, "logmel", keep_audio=False).keep_audio

    def run(*arguments: str) -> None:
        with pytest.raises(SystemExit) as ended:
            cli(["--address", kept.address, *arguments])
        assert ended.value.code == 0

    output = tmp_path / "clip.flac"
    run("audio", str(clip.id), "-c", name, "-o", str(output))
    assert output.read_bytes() == content
    assert clip.content_sha256 in capsys.readouterr().out
    ranged = tmp_path / "part.wav"
    run("audio", str(clip.id), "-c", name, "-o", str(ranged), "--end", "0.5")
    assert soundfile.info(str(ranged)).duration == pytest.approx(0.5, abs=1e-3)
    run("collections", "create", f"kept_cli_{next(_names)}", "--no-keep-audio")


def test_an_ingest_whose_audio_cannot_be_kept_leaves_nothing(kept, stack):
    if not hasattr(kept.blobs, "root"):
        pytest.skip("the folder store's failure is made by a file where its subfolder goes")
    name = kept.collection()
    content = audio_file("clicks", 25)
    blocked = kept.blobs.root / hashlib.sha256(content).hexdigest()[:2]
    blocked.write_bytes(b"")  # a file where the blob's folder must go
    try:
        with rpc_error(grpc.StatusCode.UNAVAILABLE, "AUDIO_STORE_UNAVAILABLE"):
            ingest(kept.gateway, name, content)
    finally:
        blocked.unlink()
    listed = kept.gateway.ListClips(pb2.ListClipsRequest(collection=name), timeout=TIMEOUT).clips
    assert list(listed) == [] and kept.index.count_vectors(name) == 0
    assert ingest(kept.gateway, name, content).clip.audio_kept  # once the store works again
