"""Retrieval metrics and the labelled-folder loader."""

import numpy as np
import pytest

from audiosearch.sdk import errors
from audiosearch.tools import synth
from audiosearch.tools.evaluation import dataset, metrics
from audiosearch.tools.evaluation.runner import Perturbation


def test_precision_and_average_precision():
    ranked = [1, 2, 3, 4, 5]
    assert metrics.precision_at(ranked, {1, 3}, 1) == 1.0
    assert metrics.precision_at(ranked, {1, 3}, 5) == 0.4
    assert metrics.precision_at([1], {1}, 10) == 0.1
    assert metrics.average_precision(ranked, {1, 3}) == pytest.approx((1 + 2 / 3) / 2)
    # A relevant item never ranked counts as a miss.
    assert metrics.average_precision(ranked, {3, 99}) == pytest.approx((1 / 3) / 2)
    assert metrics.hit_at(ranked, 2, 1) == 0.0 and metrics.hit_at(ranked, 2, 5) == 1.0


@pytest.fixture
def folder(tmp_path):
    for label in ("a", "b"):
        for i in range(2):
            synth.write_clip(
                tmp_path / label / f"{label}{i}-x{i}.flac", synth.generate("tone", i * 7 + ord(label)), 16000
            )
    return tmp_path


def test_labels_from_parent_pattern_and_csv(folder):
    assert [(item.name, item.label) for item in dataset.load(folder)] == [
        ("a/a0-x0.flac", "a"),
        ("a/a1-x1.flac", "a"),
        ("b/b0-x0.flac", "b"),
        ("b/b1-x1.flac", "b"),
    ]
    assert [item.label for item in dataset.load(folder, label_pattern=r"-(?P<label>x\d)")] == ["x0", "x1", "x0", "x1"]
    (folder / "labels.csv").write_text("path,label\na/a0-x0.flac,one\nb/b1-x1.flac,two\n")
    assert [(item.name, item.label) for item in dataset.load(folder, labels_csv=folder / "labels.csv")] == [
        ("a/a0-x0.flac", "one"),
        ("b/b1-x1.flac", "two"),
    ]
    with pytest.raises(ValueError, match="named group"):
        dataset.load(folder, label_pattern=r"\d")


def test_split_halves_gives_two_clips_per_file_with_its_label(folder):
    whole = dataset.load(folder, limit=1)[0]
    halves = dataset.load(folder, split_halves=True, limit=1)
    # The same seed draws the same file, whole or halved.
    assert [(item.name, item.label) for item in halves] == [(f"{whole.name}#{n}", whole.label) for n in (1, 2)]
    np.testing.assert_allclose(np.concatenate([h.samples for h in halves]), whole.samples, atol=1e-4)


def test_perturbation_specs_parse_and_produce_audio_files(folder):
    item = dataset.load(folder, limit=1)[0]
    for spec in ("noise:20", "gain:-6", "crop:0.1", "resample:8000", "mp3:64", "ogg:64", "offset:0.5"):
        data = Perturbation.parse(spec).apply(item, np.random.default_rng(0))
        assert len(data) > 1000
    with pytest.raises(ValueError, match="kind:value"):
        Perturbation.parse("reverb:3")


def test_limit_takes_a_seeded_sample_not_the_first_files(tmp_path):
    for label in ("a", "b"):
        for i in range(6):
            synth.write_clip(tmp_path / label / f"{i}.wav", synth.generate("tone", i, duration_seconds=0.2), 16000)
    sample = [item.name for item in dataset.load(tmp_path, limit=4)]
    # The first four sorted files would all be from a/; a sample reaches across the folder.
    assert len(sample) == 4 and {name[0] for name in sample} == {"a", "b"}
    assert sample == sorted(sample) == [item.name for item in dataset.load(tmp_path, limit=4, seed=0)]
    assert len({tuple(item.name for item in dataset.load(tmp_path, limit=4, seed=s)) for s in range(5)}) > 1


def test_resampling_to_the_files_own_rate_or_above_is_refused(tmp_path):
    synth.write_clip(tmp_path / "a" / "low.wav", synth.generate("vowel", 1, sample_rate=8000), 8000)
    item = dataset.load(tmp_path)[0]
    for spec in ("resample:8000", "resample:16000"):
        with pytest.raises(errors.InvalidArgument, match="8000 Hz") as refused:
            Perturbation.parse(spec).apply(item, np.random.default_rng(0))
        assert refused.value.reason == "NO_CHANGE"
    assert len(Perturbation.parse("resample:4000").apply(item, np.random.default_rng(0))) > 1000


def test_a_file_that_cannot_be_read_is_named(folder):
    (folder / "b" / "broken.wav").write_bytes(b"RIFF not really a wav file")
    with pytest.raises(ValueError, match="b/broken.wav"):
        dataset.load(folder)
