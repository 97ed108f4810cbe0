"""End to end: the four services as separate processes (the way `audiosearch up` runs them), driven through the
public API with the SDK client and the CLI."""

import json
import os
import signal
import socket
import subprocess
import sys

import numpy as np
import pytest

from audiosearch.client import AudioSearchClient
from audiosearch.sdk import errors
from audiosearch.tools import synth
from audiosearch.tools.launcher import Stack

from milvus_support import require_milvus_server_package

CLASSES = ("tone", "white_noise", "vowel", "clicks")


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("library")
    for sound_class in CLASSES:
        for i in range(6):
            suffix = (".wav", ".flac", ".ogg", ".mp3")[i % 4]
            synth.write_clip(root / sound_class / f"{sound_class}-{i}{suffix}", synth.generate(sound_class, i), 16000)
    return root


@pytest.fixture(scope="module", params=["lite", "server"])
def stack(request, tmp_path_factory, library):
    """The four services on Milvus Lite, then on a local Milvus server that the launcher starts and stops."""
    if request.param == "server":
        require_milvus_server_package()
    with Stack(
        tmp_path_factory.mktemp("stack"), ports={}, import_roots=(str(library),), milvus=request.param
    ) as running:
        yield running


@pytest.fixture(scope="module")
def client(stack):
    with AudioSearchClient(stack.gateway_address) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def collection(client, library):
    client.create_collection("e2e", model="logmel")
    outcomes = [item.outcome for item in client.import_directory("e2e", str(library), label_from_parent=True)]
    assert len(outcomes) == 6 * len(CLASSES)
    return "e2e"


def test_services_are_separate_processes(stack):
    pids = {service.process.pid for service in stack.services.values()}
    assert len(pids) == 4 and os.getpid() not in pids


@pytest.mark.parametrize("sound_class", CLASSES)
def test_fresh_clip_finds_its_own_class_first(client, collection, sound_class):
    query = synth.encode(synth.generate(sound_class, 777), 16000, ".wav")
    hits = client.search(collection, audio=query, top_k=5).hits
    assert hits[0].clip.labels.sound_class == sound_class


def test_clip_is_searchable_right_after_ingest_returns(client, collection):
    audio = synth.encode(synth.generate("chirp", 5), 16000, ".flac")
    clip = client.ingest(audio, collection, source="fresh.flac", sound_class="chirp").clip
    hits = client.search(collection, audio=audio, top_k=1).hits
    assert hits[0].clip.id == clip.id and hits[0].score > 0.99
    assert client.delete_clip(clip.id)


def test_same_file_twice_gives_one_record_and_delete_removes_both(client, collection):
    audio = synth.encode(synth.generate("siren", 1), 16000, ".ogg")
    first = client.ingest(audio, collection, source="siren.ogg")
    second = client.ingest(audio, collection, source="again.ogg")
    assert not first.duplicate and second.duplicate and second.clip.id == first.clip.id
    vectors_before = {s.name: s.vectors for s in client.stats()}["e2e"]

    assert client.delete_clip(first.clip.id)
    with pytest.raises(errors.NotFound):
        client.get_clip(first.clip.id)
    assert {s.name: s.vectors for s in client.stats()}["e2e"] == vectors_before - 1
    hits = client.search(collection, audio=audio, top_k=5).hits
    assert first.clip.id not in {hit.clip.id for hit in hits}
    assert not client.delete_clip(first.clip.id)


def test_bad_upload_leaves_nothing_behind(client, collection):
    before = {s.name: (s.ready_clips, s.pending_clips, s.vectors) for s in client.stats()}["e2e"]
    with pytest.raises(errors.InvalidArgument):
        client.ingest(b"this is not audio", collection)
    after = {s.name: (s.ready_clips, s.pending_clips, s.vectors) for s in client.stats()}["e2e"]
    assert after == before


def _cli(stack, *args) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "audiosearch.tools.cli", "--address", stack.gateway_address, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_cli_search_and_stats_as_json(stack, collection, tmp_path):
    query = synth.write_clip(tmp_path / "q.wav", synth.generate("vowel", 4242), 16000)
    result = _cli(stack, "--json", "search", str(query), "-c", collection, "-k", "3")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)["hits"]
    assert len(hits) == 3 and hits[0]["clip"]["labels"]["sound_class"] == "vowel"

    stats = json.loads(_cli(stack, "--json", "stats").stdout)
    assert {row["name"] for row in stats} >= {"e2e"}


def test_cli_reports_an_unknown_collection_clearly(stack, tmp_path):
    query = synth.write_clip(tmp_path / "q.wav", synth.generate("tone", 1), 16000)
    result = _cli(stack, "search", str(query), "-c", "nope")
    assert result.returncode != 0 and "NOT_FOUND" in result.stderr and "nope" in result.stderr


def test_demo_command_ranks_every_class_first(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "audiosearch.tools.cli", "demo", "--data-dir", str(tmp_path), "--clips-per-class", "8"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"{len(synth.CLASSES)}/{len(synth.CLASSES)} queries ranked their own class first" in result.stdout


# Long recordings, filters and the other query kinds, on both backends (issue #4).

RATE = 16000


def _recording(seed: int, minutes: float) -> np.ndarray:
    """Varied 5-s pieces (every class, fresh seeds, some silence-level noise) so that no two windows sound alike."""
    pieces = []
    for index in range(int(minutes * 60 / 5)):
        sound_class = synth.CLASSES[(index * 3 + seed) % len(synth.CLASSES)]
        pieces.append(synth.generate(sound_class, seed * 10_000 + index, duration_seconds=5.0, sample_rate=RATE))
    return np.concatenate(pieces)


@pytest.fixture(scope="module")
def recordings(client):
    """A segmented collection (window 5 s, hop 2.5 s): a 10-minute recording and a 2-minute distractor."""
    client.create_collection("long", model="logmel", window_seconds=5.0, hop_seconds=2.5)
    long_audio = _recording(1, 10.0)
    long_clip = client.ingest(synth.encode(long_audio, RATE, ".flac"), "long", source="ten-minutes.flac").clip
    distractor = _recording(2, 2.0)
    client.ingest(synth.encode(distractor, RATE, ".flac"), "long", source="distractor.flac")
    return long_clip, long_audio


@pytest.mark.parametrize("start", [301.3, 47.0])
def test_snippet_of_a_long_recording_finds_it_with_the_right_time_range(client, recordings, start):
    long_clip, long_audio = recordings
    snippet = long_audio[int(start * RATE) : int((start + 5.0) * RATE)]
    hits = client.search("long", audio=synth.encode(snippet, RATE, ".wav"), top_k=3).hits
    assert hits[0].clip.id == long_clip.id
    # The best window overlaps the snippet's true range.
    assert hits[0].start_seconds < start + 5.0 and hits[0].end_seconds > start, (hits[0].start_seconds, start)
    assert hits[0].end_seconds - hits[0].start_seconds == pytest.approx(5.0, abs=0.01)


SNEAKY_CLASS = 'dog" or sound_class != "'


@pytest.fixture(scope="module")
def labelled(client):
    client.create_collection("labelled", model="logmel")
    clips = {}
    for index, sound_class in enumerate(["dog", "cat", SNEAKY_CLASS, "x' OR 1==1"]):
        audio = synth.encode(synth.generate("vowel", 9000 + index), RATE, ".wav")
        clips[sound_class] = client.ingest(audio, "labelled", sound_class=sound_class).clip
    return clips


@pytest.mark.parametrize(
    ("sound_classes", "expected"),
    [
        (("dog",), {"dog"}),
        (("dog", "cat"), {"dog", "cat"}),
        ((SNEAKY_CLASS,), {SNEAKY_CLASS}),
        (("x' OR 1==1",), {"x' OR 1==1"}),
        (('" or clip_id >= 0 or sound_class == "',), set()),
        (("nobody",), set()),
    ],
)
def test_label_filter_returns_only_matching_clips_and_values_stay_values(client, labelled, sound_classes, expected):
    query = synth.encode(synth.generate("vowel", 9100), RATE, ".wav")
    hits = client.search("labelled", audio=query, top_k=10, sound_classes=sound_classes).hits
    assert {hit.clip.labels.sound_class for hit in hits} == expected


def test_more_like_a_stored_clip_and_by_raw_vector(client, labelled):
    dog = labelled["dog"]
    hits = client.search("labelled", clip_id=dog.id, top_k=10).hits
    assert len(hits) == 3 and dog.id not in {hit.clip.id for hit in hits}  # the clip itself is left out
    vector = [1.0] + [0.0] * (next(c for c in client.list_collections() if c.name == "labelled").dimension - 1)
    assert len(client.search("labelled", vector=vector, top_k=2).hits) == 2


def test_each_fresh_ingest_is_found_by_the_next_search(client):
    client.create_collection("fresh", model="logmel")
    for index, sound_class in enumerate(synth.CLASSES):
        audio = synth.encode(synth.generate(sound_class, 500 + index), RATE, ".wav")
        clip = client.ingest(audio, "fresh", sound_class=sound_class).clip
        assert client.search("fresh", audio=audio, top_k=1).hits[0].clip.id == clip.id


def test_a_purpose_picks_the_best_available_model(client, stack):
    available = {model.name for model in client.list_models() if model.available}
    speakers = client.create_collection(f"speakers_{stack.milvus}", purpose="speakers")
    assert speakers.model == (
        "ge2e" if "ge2e" in available else "ecapa_tdnn" if "ecapa_tdnn" in available else "logmel"
    )
    recordings = client.create_collection(f"recordings_{stack.milvus}", purpose="recordings")
    assert recordings.model == "fingerprint"
    assert (recordings.segments.window_seconds, recordings.segments.hop_seconds) == (3.0, 0.25)
    explicit = client.create_collection(f"explicit_{stack.milvus}", model="logmel", purpose="speakers")
    assert explicit.model == "logmel"


def test_speakers_are_identified_through_the_speaker_index_and_deleted(client, stack):
    """Enroll, identify and delete on each vector store: the speaker index (one row per speaker) works on Milvus Lite
    and on the server alike."""
    name = f"voices_{stack.milvus}"
    client.create_collection(name, model="logmel", purpose="speakers")
    for seed in range(3):
        for seconds in (3.0, 3.5):
            client.enroll_speaker(name, f"v{seed}", synth.encode(synth.generate("vowel", 700 + seed, seconds), RATE))
    found = client.identify_speaker(name, audio=synth.encode(synth.generate("vowel", 701, 4.0), RATE))
    assert found.candidates[0].speaker_id == "v1" and len(found.candidates) == 3
    assert client.delete_speaker(name, "v1") == 2
    with pytest.raises(errors.NotFound):
        client.get_speaker(name, "v1")


def test_sigterm_to_the_demo_stops_the_services_it_started(tmp_path):
    command = [sys.executable, "-m", "audiosearch.tools.cli", "demo", "--data-dir", str(tmp_path)]
    command += ["--clips-per-class", "4"]
    demo = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in demo.stdout:
        if line.startswith("services up"):
            gateway = line.split("gateway ")[1].split(")")[0]
            break
    demo.send_signal(signal.SIGTERM)
    assert demo.wait(timeout=60) != 0
    host, port = gateway.rsplit(":", 1)
    with pytest.raises(OSError):
        socket.create_connection((host, int(port)), timeout=2).close()
