"""ImportDirectory: a folder of class sub-folders, streamed back one progress message per file."""

import pathlib

from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.type.v1 import types_pb2

from gateway_support import TIMEOUT, all_clips, audio_file, ingest, stats_of

Progress = pb2.ImportDirectoryProgress
LAYOUT = {"siren": (".wav", ".flac"), "tone": (".ogg", ".mp3"), "vowel": (".wav",)}


def make_library(root: pathlib.Path) -> list[pathlib.Path]:
    """root/<class>/<class>_<n><suffix> for every class, plus root/tone/broken.wav holding no audio."""
    files = []
    for sound_class, suffixes in LAYOUT.items():
        (root / sound_class).mkdir(parents=True)
        for seed, suffix in enumerate(suffixes):
            path = root / sound_class / f"{sound_class}_{seed}{suffix}"
            path.write_bytes(audio_file(sound_class, 500 + seed, suffix))
            files.append(path)
    (root / "tone" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + bytes(100))
    (root / "vowel" / "notes.txt").write_text("not audio, and not named like audio: skipped")
    return files


def run_import(gateway, collection: str, path: str, **fields) -> list[Progress]:
    request = pb2.ImportDirectoryRequest(collection=collection, path=path, **fields)
    return list(gateway.ImportDirectory(request, timeout=TIMEOUT))


def test_import_a_folder_of_class_folders(stack, gateway, new_collection):
    collection = new_collection()
    root = stack.import_root / "library_of_classes"
    good = make_library(root)
    labels = types_pb2.Labels(speaker="field_recorder", tags=["imported"])

    progress = run_import(gateway, collection, str(root), recursive=True, label_from_parent=True, labels=labels)

    total = len(good) + 1
    assert [item.done for item in progress] == list(range(1, total + 1))
    assert {item.total for item in progress} == {total}
    by_name = {pathlib.Path(item.path).name: item for item in progress}
    assert set(by_name) == {path.name for path in good} | {"broken.wav"}
    broken = by_name.pop("broken.wav")
    assert broken.outcome == Progress.OUTCOME_FAILED
    assert "INVALID_ARGUMENT" in broken.error and broken.error.split(": ", 1)[1]
    assert not broken.HasField("clip")
    for path in good:
        item = by_name[path.name]
        assert item.outcome == Progress.OUTCOME_ADDED, item.error
        assert not item.error
        assert item.clip.state == types_pb2.CLIP_STATE_READY
        assert item.clip.labels.sound_class == path.parent.name
        assert item.clip.labels.speaker == "field_recorder"
        assert list(item.clip.labels.tags) == ["imported"]
        assert item.clip.source == f"{path.parent.name}/{path.name}"

    clips = all_clips(gateway, collection)
    assert sorted(clip.source for clip in clips) == sorted(f"{path.parent.name}/{path.name}" for path in good)
    row = stats_of(gateway, collection)
    assert (row.ready_clips, row.pending_clips, row.failed_clips, row.vectors) == (len(good), 0, 0, len(good))
    # The imported clips are searchable by their folder's class.
    search_filter = types_pb2.SearchFilter(sound_classes=["siren"])
    hits = gateway.SearchAudio(
        pb2.SearchAudioRequest(collection=collection, audio=audio_file("siren", 1), top_k=10, filter=search_filter),
        timeout=TIMEOUT,
    ).hits
    assert len(hits) == len(LAYOUT["siren"])

    again = run_import(gateway, collection, "library_of_classes", recursive=True, label_from_parent=True)

    outcomes = {pathlib.Path(item.path).name: item for item in again}
    assert outcomes.pop("broken.wav").outcome == Progress.OUTCOME_FAILED
    assert {item.outcome for item in outcomes.values()} == {Progress.OUTCOME_DUPLICATE}
    assert {item.clip.id for item in outcomes.values()} == {clip.id for clip in clips}
    assert len(all_clips(gateway, collection)) == len(good)
    assert stats_of(gateway, collection).vectors == len(good)


def test_import_without_recursion_reads_only_the_folder_itself(stack, gateway, new_collection):
    collection = new_collection()
    root = stack.import_root / "flat_and_nested"
    make_library(root / "nested")
    (root / "top.flac").write_bytes(audio_file("chirp", 7, ".flac"))

    progress = run_import(gateway, collection, str(root), labels=types_pb2.Labels(sound_class="chirp"))

    assert [(pathlib.Path(item.path).name, item.outcome) for item in progress] == [("top.flac", Progress.OUTCOME_ADDED)]
    assert progress[0].clip.labels.sound_class == "chirp"


def test_import_of_an_empty_folder_streams_nothing(stack, gateway, new_collection):
    (stack.import_root / "empty_folder").mkdir()
    assert run_import(gateway, new_collection(), "empty_folder", recursive=True) == []


def test_get_stats_counts_every_collection(gateway, new_collection):
    first, second = new_collection(), new_collection()
    for seed in range(3):
        ingest(gateway, first, audio_file("clicks", seed))
    ingest(gateway, second, audio_file("clicks", 0))

    rows = {row.name: row for row in gateway.GetStats(pb2.GetStatsRequest(), timeout=TIMEOUT).collections}

    assert (rows[first].model, rows[first].ready_clips, rows[first].vectors) == ("logmel", 3, 3)
    assert (rows[second].ready_clips, rows[second].vectors) == (1, 1)
    assert rows[first].pending_clips == rows[first].failed_clips == 0
