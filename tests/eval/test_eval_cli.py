"""`audiosearch eval` end to end: generated sound classes in per-class folders, run as a user would run it."""

import json
import subprocess
import sys

import pytest

from audiosearch.client import AudioSearchClient
from audiosearch.tools import synth
from audiosearch.tools.launcher import Stack

pytestmark = pytest.mark.e2e

CLASSES = ("tone", "chirp", "white_noise", "vowel", "siren")
PER_CLASS = 4


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("labelled")
    for class_index, sound_class in enumerate(CLASSES):
        for i in range(PER_CLASS):
            samples = synth.generate(sound_class, class_index * 100 + i, duration_seconds=2.0 + 0.5 * (i % 2))
            synth.write_clip(root / sound_class / f"{sound_class}-{i}.{('wav', 'flac')[i % 2]}", samples, 16000)
    return root


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with Stack(tmp_path_factory.mktemp("stack"), ports={}) as running:
        yield running


def run_eval(*args: str, cwd) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "audiosearch.tools.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=240, check=False)


def test_eval_on_a_running_gateway_reports_json_and_leaves_nothing_behind(stack, folder, tmp_path):
    chart = tmp_path / "chart.png"
    done = run_eval(
        "--json",
        "eval",
        str(folder),
        "--address",
        stack.gateway_address,
        "--model",
        "logmel",
        "--perturb",
        "gain:-6",
        "--perturb",
        "crop:0.1",
        "--chart",
        str(chart),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) >= {"collection", "dataset", "label_retrieval", "near_duplicate", "timing_ms", "chart"}
    assert report["dataset"] == {"clips": len(CLASSES) * PER_CLASS, "labels": len(CLASSES), "refused": 0}
    assert report["refused_clips"] == []
    labels = report["label_retrieval"]
    assert labels["queries"] == len(CLASSES) * PER_CLASS and labels["mAP_cutoff"] is None
    # logmel tells these synthetic classes apart: the nearest other clip is of the same class.
    assert labels["precision@1"] >= 0.9 and labels["mAP"] >= 0.8
    assert 0 < labels["precision@5"] <= (PER_CLASS - 1) / 5 + 1e-9
    assert set(report["near_duplicate"]) == {"gain:-6", "crop:0.1"}
    assert report["near_duplicate"]["gain:-6"]["hit@1"] == 1.0
    assert all(value > 0 for value in report["timing_ms"].values())
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The temporary collection is gone.
    with AudioSearchClient(stack.gateway_address) as client:
        assert report["collection"]["temporary"] and not list(client.list_collections())


def test_eval_starts_its_own_services_and_prints_the_table(folder, tmp_path):
    done = run_eval(
        "eval",
        str(folder),
        "--model",
        "fingerprint",
        "--window",
        "2",
        "--hop",
        "0.25",
        "--perturb",
        "noise:20",
        "--perturb",
        "mp3:64",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for heading in ("label retrieval", "near-duplicate retrieval", "precision@1", "mAP", "hit@1", "noise:20", "mp3:64"):
        assert heading in out
    assert "model fingerprint, window 2 s, hop 0.25 s" in out
    assert (tmp_path / "audiosearch-eval.png").stat().st_size > 1000


def test_eval_refuses_a_pattern_without_a_label_group(folder, tmp_path):
    done = run_eval("eval", str(folder), "--label-pattern", r"\d+", "--address", "127.0.0.1:1", cwd=tmp_path)
    assert done.returncode != 0 and "(?P<label>" in done.stderr


def test_eval_without_near_duplicates_prints_label_retrieval_only(stack, folder, tmp_path):
    done = run_eval(
        "eval",
        str(folder),
        "--address",
        stack.gateway_address,
        "--model",
        "logmel",
        "--no-near-duplicates",
        "--no-chart",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "precision@1" in done.stdout and "near-duplicate retrieval" not in done.stdout


@pytest.fixture(scope="module")
def awkward_folder(tmp_path_factory):
    """What a real set holds: a clip too short for the model, one that a perturbation makes too short, and a class
    recorded at 8 kHz (which resample:8000 cannot change)."""
    root = tmp_path_factory.mktemp("awkward")
    for class_index, (sound_class, rate) in enumerate((("tone", 16000), ("chirp", 16000), ("vowel", 8000))):
        for i in range(3):
            samples = synth.generate(sound_class, class_index * 100 + i, duration_seconds=2.0, sample_rate=rate)
            synth.write_clip(root / sound_class / f"{sound_class}-{i}.wav", samples, rate)
    # logmel needs 0.1 s: this clip is refused at ingest; the other lasts 0.13 s, 0.08 s once offset by -0.05 s.
    synth.write_clip(root / "tone" / "blip.wav", synth.generate("tone", 7, duration_seconds=0.05), 16000)
    synth.write_clip(root / "chirp" / "short.wav", synth.generate("chirp", 7, duration_seconds=0.13), 16000)
    return root


def table_row(out: str, first_cell: str) -> list[str]:
    return next(line.split() for line in out.splitlines() if line.split()[:1] == [first_cell])


def test_eval_skips_and_names_what_it_could_not_measure(stack, awkward_folder, tmp_path):
    common = (
        "eval",
        str(awkward_folder),
        "--address",
        stack.gateway_address,
        "--model",
        "logmel",
        "--no-chart",
        "--perturb",
        "offset:-0.05",
        "--perturb",
        "resample:8000",
    )
    done = run_eval("--json", *common, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # The too-short clip is left out and named, not the end of the run.
    assert report["dataset"]["clips"] == 11 and report["dataset"]["refused"] == 1
    assert [(c["name"], c["reason"]) for c in report["refused_clips"]] == [("tone/blip.wav", "AUDIO_TOO_SHORT")]
    assert "0.1 s" in report["refused_clips"][0]["message"]
    assert report["label_retrieval"]["queries"] == 10
    # Queries are counted only when measured: the offset made one too short, the 8 kHz clips cannot be resampled.
    offset, resample = report["near_duplicate"]["offset:-0.05"], report["near_duplicate"]["resample:8000"]
    assert (offset["queries"], offset["refused"]) == (9, 1)
    assert [(c["name"], c["reason"]) for c in offset["refused_clips"]] == [("chirp/short.wav", "AUDIO_TOO_SHORT")]
    assert offset["hit@1"] == 1.0
    assert (resample["queries"], resample["refused"]) == (7, 3)
    assert {c["name"] for c in resample["refused_clips"]} == {f"vowel/vowel-{i}.wav" for i in range(3)}
    assert "8000 Hz" in resample["refused_clips"][0]["message"]
    # Progress lines even though stderr is a pipe, not a terminal.
    assert "ingest 11/11" in done.stderr and "near-duplicate resample:8000 10/10" in done.stderr

    out = run_eval(*common, cwd=tmp_path).stdout
    assert "tone/blip.wav" in out and "AUDIO_TOO_SHORT" in out
    assert table_row(out, "offset:-0.05")[3:5] == ["9", "1"]
    assert table_row(out, "resample:8000")[3:5] == ["7", "3"]
