"""RebuildCollection (issue #16) through the public API: a logmel collection re-embedded from its kept audio with
another model (fingerprint: another dimension) as a job; the name switches to the new vectors with the same clip
ids, labels and sources; bad requests create nothing; a cancel leaves the collection as it was and no new vectors;
a collection whose audio is not kept keeps its model, each clip listed as a failure.

A gateway of this module's own serves them (on the session's three services), so its settings are the test's.
"""

import grpc
import pytest

from audiosearch.client import AudioSearchClient
from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.runtime import convert, domain, rules
from audiosearch.runtime.import_jobs import ImportJob, Rebuild
from audiosearch.sdk import errors
from audiosearch.tools.cli.main import main as cli_main
from audiosearch.type.v1 import import_job_pb2
from gateway.clients import EmbeddingClient, SearchClient
from gateway.job_client import ImportJobRecords

from gateway_support import TIMEOUT, audio_file, own_gateway

State = import_job_pb2.ImportJobState
CLASSES = ("tone", "chirp", "white_noise", "clicks", "vowel", "siren")


@pytest.fixture(scope="module")
def client(stack):
    with own_gateway(stack.addresses, stack.import_root, import_concurrency=2, import_batch_size=4) as client:
        yield client


def library(client: AudioSearchClient, name: str, count: int, keep_audio: bool = True) -> dict[int, tuple]:
    """A logmel collection of `count` 1-s clips; each clip's (source, sound_class, audio) by id."""
    client.stub.CreateCollection(pb2.CreateCollectionRequest(name=name, model="logmel", keep_audio=keep_audio))
    clips = {}
    for seed in range(count):
        sound_class = CLASSES[seed % len(CLASSES)]
        audio = audio_file(sound_class, 41_000 + seed, duration_seconds=1.0)
        clip = client.ingest(audio, name, source=f"s{seed}.wav", sound_class=sound_class).clip
        clips[clip.id] = (clip.source, clip.labels.sound_class, audio)
    return clips


def final(client: AudioSearchClient, job_id: int) -> import_job_pb2.ImportJob:
    return list(client.watch_import_job(job_id, timeout_seconds=TIMEOUT))[-1]


def collection(client: AudioSearchClient, name: str):
    (found,) = [item for item in client.list_collections() if item.name == name]
    return found


def test_a_rebuild_re_embeds_every_clip_and_switches_the_name_keeping_ids_labels_and_sources(client, stack):
    clips = library(client, "rebuilt", 12)
    old_dimension = collection(client, "rebuilt").dimension

    job = client.rebuild_collection("rebuilt", "fingerprint")
    assert job.WhichOneof("source") == "rebuild" and job.rebuild.model == "fingerprint"
    assert collection(client, "rebuilt").model == "logmel"  # serves with the old model until the switch

    done = final(client, job.id)
    assert done.state == State.IMPORT_JOB_STATE_SUCCEEDED, done.error
    assert (done.files_found, done.files_done, done.files_added, done.files_failed) == (12, 12, 12, 0)
    switched = collection(client, "rebuilt")
    assert switched.model == "fingerprint" and switched.dimension != old_dimension
    after = {clip.id: (clip.source, clip.labels.sound_class) for clip in client.list_clips("rebuilt")}
    assert after == {clip_id: (source, label) for clip_id, (source, label, _) in clips.items()}
    for clip_id, (_, _, audio) in list(clips.items())[:3]:
        result = client.search("rebuilt", audio=audio, top_k=1)
        assert result.model == "fingerprint" and result.hits[0].clip.id == clip_id
    assert stack.search_core.count("rebuilt").clips == 12
    # The job's vectors are the collection's now: they cannot be dropped by their own name.
    with pytest.raises(errors.FailedPrecondition):
        stack.search_core.drop_collection(job.rebuild.vector_collection)

    again = final(client, client.rebuild_collection("rebuilt", "logmel").id)  # and back, an alias moved once more
    assert again.state == State.IMPORT_JOB_STATE_SUCCEEDED and again.files_added == 12
    assert stack.search_core.store.describe(job.rebuild.vector_collection) is None  # the first rebuild's are gone
    assert client.search("rebuilt", audio=clips[min(clips)][2], top_k=1).model == "logmel"


def test_clips_without_kept_audio_are_failures_and_the_collection_keeps_its_model(client, stack):
    library(client, "unkept", 3, keep_audio=False)
    done = final(client, client.rebuild_collection("unkept", "fingerprint").id)
    assert done.state == State.IMPORT_JOB_STATE_FAILED and "REBUILD_INCOMPLETE" in done.error
    assert (done.files_done, done.files_failed) == (3, 3)
    failures = list(client.import_job_failures(done.id))
    assert len(failures) == 3 and all(failure.error.startswith("FAILED_PRECONDITION") for failure in failures)
    assert collection(client, "unkept").model == "logmel"
    assert stack.search_core.store.describe(done.rebuild.vector_collection) is None
    assert client.search("unkept", audio=audio_file(CLASSES[0], 41_000, duration_seconds=1.0), top_k=1).hits


@pytest.mark.parametrize(
    ("fields", "code", "reason"),
    [
        ({"collection": "nope", "model": "fingerprint"}, grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND"),
        ({"collection": "bad_input", "model": "nope"}, grpc.StatusCode.NOT_FOUND, "UNKNOWN_MODEL"),
        ({"collection": "bad_input", "model": ""}, grpc.StatusCode.INVALID_ARGUMENT, "MODEL_REQUIRED"),
        ({"collection": "bad_input", "model": "logmel", "window_seconds": -1.0}, grpc.StatusCode.INVALID_ARGUMENT,
         None),
        ({"collection": "bad_speakers", "model": "logmel"}, grpc.StatusCode.FAILED_PRECONDITION,
         "REBUILD_UNSUPPORTED"),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_with_a_reason_and_create_no_job(client, fields, code, reason):
    if not any(item.name == "bad_input" for item in client.list_collections()):
        client.create_collection("bad_input", "logmel")
        client.create_collection("bad_speakers", purpose="speakers")
    before = [job.id for job in client.list_import_jobs()]
    with pytest.raises(errors.AudioSearchError) as refused:
        client.rebuild_collection(**fields)
    assert refused.value.code_name == code.name and (reason is None or refused.value.reason == reason)
    assert [job.id for job in client.list_import_jobs()] == before


def test_a_cancel_leaves_the_collection_as_it_was_and_no_new_vectors(client, stack):
    clips = library(client, "cancelled", 30)
    job = client.rebuild_collection("cancelled", "fingerprint")
    client.cancel_import_job(job.id)
    done = final(client, job.id)
    assert done.state == State.IMPORT_JOB_STATE_CANCELLED
    assert collection(client, "cancelled").model == "logmel"
    assert stack.search_core.store.describe(rules.rebuild_vectors_name("cancelled", job.id)) is None
    assert stack.search_core.count("cancelled").clips == len(clips)
    some = next(iter(clips))
    assert client.search("cancelled", audio=clips[some][2], top_k=1).hits[0].clip.id == some


@pytest.fixture(scope="module")
def peers(stack):
    """The gateway's own clients of the three services, to play a gateway that dies in the middle of a rebuild."""
    clients = (
        ImportJobRecords(grpc.insecure_channel(stack.addresses["metadata"]), TIMEOUT),
        SearchClient(grpc.insecure_channel(stack.addresses["search"]), TIMEOUT),
        EmbeddingClient(grpc.insecure_channel(stack.addresses["embedding"]), TIMEOUT),
    )
    yield clients
    for peer in clients:
        peer.channel.close()


def dead_rebuild(client: AudioSearchClient, records: ImportJobRecords, name: str) -> ImportJob:
    """A rebuild of `name` with fingerprint, held by a gateway that will never renew its 1-s lease (it died): a live
    gateway takes it over once the lease has expired."""
    (model,) = [item for item in client.list_models() if item.name == "fingerprint"]
    draft = ImportJob(
        0, name, "", rebuild=Rebuild("fingerprint", model.dimension, convert.metric_from_proto(model.metric))
    )
    for _ in range(3):  # the gateways poll every 5 s: one may take the job before the "dead" one does
        job = records.create(draft, "")
        dead = records.claim("dead-gateway", 1.0)
        if dead is not None and dead.id == job.id:
            return dead
        final(client, client.cancel_import_job(job.id).id)
    raise AssertionError("a live gateway took every job before the dead one could")


def test_a_rebuild_whose_gateway_died_after_switching_the_vectors_is_finished_even_if_cancelled(client, peers):
    """The dead gateway switched the search service's name and died before the metadata switch; the job is then
    cancelled. Its old vectors are gone, so the next holder finishes the rebuild instead of cancelling it."""
    records, index, embedder = peers
    clips = library(client, "half_switched", 3)
    dead = dead_rebuild(client, records, "half_switched")
    assert dead.rebuild is not None
    vectors = dead.rebuild.vector_collection
    index.ensure_collection(vectors, dead.rebuild.dimension, dead.rebuild.metric, "")
    for clip_id, (_, sound_class, audio) in clips.items():
        _, segments = embedder.embed("fingerprint", audio, domain.SegmentOptions())
        index.upsert(vectors, domain.ClipVectors(clip_id, domain.Labels(sound_class=sound_class), 1.0, segments))
    assert index.switch_collection("half_switched", vectors)  # then the gateway died

    assert client.cancel_import_job(dead.id).state == State.IMPORT_JOB_STATE_CANCELLING
    done = final(client, dead.id)  # a live gateway takes the job once the dead one's lease expires

    assert done.state == State.IMPORT_JOB_STATE_SUCCEEDED, done.error
    assert collection(client, "half_switched").model == "fingerprint"
    for clip_id, (_, _, audio) in clips.items():
        assert client.search("half_switched", audio=audio, top_k=1).hits[0].clip.id == clip_id


def test_clips_ingested_during_a_rebuild_are_re_embedded_before_the_switch(client, peers, stack):
    records, _, _ = peers
    clips = library(client, "growing", 3)
    dead = dead_rebuild(client, records, "growing")
    records.add_files(dead.id, "dead-gateway", 0, [str(clip_id) for clip_id in sorted(clips)], True)  # its listing
    later = {}
    for seed in range(2):  # ingested after the listing, before the switch
        audio = audio_file(CLASSES[seed], 42_000 + seed, duration_seconds=1.0)
        later[client.ingest(audio, "growing", source=f"late{seed}.wav").clip.id] = audio

    done = final(client, dead.id)

    assert done.state == State.IMPORT_JOB_STATE_SUCCEEDED, done.error
    assert (done.files_found, done.files_added) == (5, 5)
    assert stack.search_core.count("growing").clips == 5
    for clip_id, audio in later.items():
        result = client.search("growing", audio=audio, top_k=1)
        assert result.model == "fingerprint" and result.hits[0].clip.id == clip_id


def test_a_collection_dropped_during_its_rebuild_fails_the_job_and_leaves_no_new_vectors(client, peers, stack):
    records, index, _ = peers
    library(client, "dropped", 2)
    dead = dead_rebuild(client, records, "dropped")
    assert dead.rebuild is not None
    index.ensure_collection(dead.rebuild.vector_collection, dead.rebuild.dimension, dead.rebuild.metric, "")
    client.drop_collection("dropped")

    done = final(client, dead.id)

    assert done.state == State.IMPORT_JOB_STATE_FAILED and "COLLECTION_NOT_FOUND" in done.error
    assert stack.search_core.store.describe(dead.rebuild.vector_collection) is None


def test_the_cli_rebuilds_with_the_import_progress(client, capsys):
    library(client, "cli_rebuilt", 4)
    with pytest.raises(SystemExit) as exit_code:
        cli_main(["--address", client.address, "collections", "rebuild", "cli_rebuilt", "--model", "fingerprint"])
    assert exit_code.value.code == 0
    out = capsys.readouterr().out
    assert "SUCCEEDED" in out and "4/4 files" in out and "added 4" in out
    assert collection(client, "cli_rebuilt").model == "fingerprint"
