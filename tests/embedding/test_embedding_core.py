import os
import threading

import numpy as np
import pytest

from audiosearch.runtime import domain
from audiosearch.sdk import errors
from audiosearch.tools import synth
from embedding_service.core import EmbeddingCore, EmbedOptions, Limits
from embedding_service.files import RootedFiles
from embedding_service.models.base import EmbeddingModel
from embedding_service.models.registry import ModelRegistry

RATE = 16000
LOGMEL = EmbedOptions("logmel")


@pytest.fixture
def library_root(tmp_path):
    root = tmp_path / "library"
    root.mkdir()
    return root


@pytest.fixture
def core(logmel, library_root):
    files = RootedFiles([str(library_root)], max_bytes=1 << 20)
    return EmbeddingCore(ModelRegistry([logmel]), Limits(max_duration_seconds=30), files.read)


def test_lists_the_models_it_serves(core):
    [model] = core.list_models()
    assert (model.name, model.dimension, model.sample_rate, model.metric, model.available) == (
        "logmel",
        192,
        16000,
        "COSINE",
        True,
    )


def test_a_whole_clip_is_one_unit_vector_over_its_duration(core):
    info, [segment] = core.embed(LOGMEL, content=synth.encode(synth.generate("tone", 1, 1.5, 44100), 44100))
    assert (info.sample_rate, info.channels, info.format) == (44100, 1, "wav")
    assert (segment.start_seconds, segment.end_seconds) == (0.0, pytest.approx(1.5))
    assert len(segment.vector) == 192 and np.linalg.norm(segment.vector) == pytest.approx(1.0, abs=1e-5)


def test_windows_of_a_long_clip_each_match_the_sound_they_cover(core, logmel):
    parts = ["tone", "white_noise", "vowel"]
    recording = np.concatenate([synth.generate(name, seed=5, duration_seconds=2.0) for name in parts])
    options = EmbedOptions("logmel", domain.SegmentOptions(window_seconds=2.0, hop_seconds=2.0))
    _, found = core.embed(options, content=synth.encode(recording, RATE, ".flac"))
    assert [(s.start_seconds, s.end_seconds) for s in found] == [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0)]
    references = logmel.embed_batch([synth.generate(name, seed=50) for name in synth.CLASSES])
    nearest = [synth.CLASSES[int(np.argmax(references @ np.asarray(s.vector)))] for s in found]
    assert nearest == parts


def test_audio_shorter_than_the_model_minimum_is_refused(core):
    with pytest.raises(errors.InvalidArgument) as caught:
        core.embed(LOGMEL, content=synth.encode(synth.generate("tone", 1, 0.05), RATE))
    assert caught.value.reason == "AUDIO_TOO_SHORT"
    assert "0.1 s" in caught.value.message


def test_audio_over_the_byte_limit_is_refused(core):
    with pytest.raises(errors.ResourceExhausted) as caught:
        core.embed(LOGMEL, content=b"\0" * (core.max_audio_bytes + 1))
    assert caught.value.reason == "AUDIO_TOO_LARGE"


@pytest.mark.parametrize(
    "options, content, reason",
    [(EmbedOptions(""), b"x", "MISSING_MODEL"), (LOGMEL, None, "MISSING_AUDIO")],
)
def test_a_request_without_model_or_audio_is_refused(core, options, content, reason):
    with pytest.raises(errors.InvalidArgument) as caught:
        core.embed(options, content=content)
    assert caught.value.reason == reason


def test_an_unknown_model_is_not_found(core):
    with pytest.raises(errors.NotFound):
        core.embed(EmbedOptions("ecapa_tdnn"), content=b"x")


def _write(path, seed=1):
    return synth.write_clip(path, synth.generate("chirp", seed, 1.0), RATE)


def test_reads_uris_inside_the_allowed_roots(core, library_root):
    clip = _write(library_root / "a b.wav")
    _, [by_path] = core.embed(LOGMEL, uri=str(clip))
    _, [by_uri] = core.embed(LOGMEL, uri="file://" + str(clip).replace(" ", "%20"))
    _, [by_content] = core.embed(LOGMEL, content=clip.read_bytes())
    assert by_path.vector == by_uri.vector == by_content.vector


@pytest.mark.parametrize("escape", ["dotdot", "symlink", "absolute"])
def test_uris_that_escape_the_allowed_roots_are_refused(core, library_root, tmp_path, escape):
    outside = _write(tmp_path / "secret.wav")
    uri = {
        "dotdot": str(library_root / ".." / "secret.wav"),
        "absolute": str(outside),
        "symlink": str(library_root / "link.wav"),
    }[escape]
    os.symlink(outside, library_root / "link.wav")
    with pytest.raises(errors.PermissionDenied):
        core.embed(LOGMEL, uri=uri)


def test_a_missing_file_is_not_found(core, library_root):
    with pytest.raises(errors.NotFound):
        core.embed(LOGMEL, uri=str(library_root / "missing.wav"))


def test_uris_are_refused_when_no_root_is_configured(logmel, tmp_path):
    core = EmbeddingCore(ModelRegistry([logmel]), Limits(), RootedFiles([], max_bytes=1 << 20).read)
    with pytest.raises(errors.PermissionDenied):
        core.embed(LOGMEL, uri=str(_write(tmp_path / "a.wav")))


def test_remote_uris_are_refused(core):
    with pytest.raises(errors.InvalidArgument) as caught:
        core.embed(LOGMEL, uri="https://example.com/a.wav")
    assert caught.value.reason == "UNSUPPORTED_URI"


class _BlockingModel(EmbeddingModel):
    """Holds its embedding slot until released, to fill the service's capacity."""

    name, dimension, sample_rate, min_duration_seconds = "blocking", 2, RATE, 0.1

    def __init__(self):
        self.entered, self.release = threading.Event(), threading.Event()

    def embed_batch(self, waveforms):
        self.entered.set()
        self.release.wait(timeout=10)
        return np.tile(np.float32([1, 0]), (len(waveforms), 1))


@pytest.mark.parametrize(
    "limits, seconds, reason",
    [
        (Limits(max_concurrent_embeds=1, queue_wait_seconds=0.01), 0.5, "EMBEDDING_BUSY"),
        # room for one 0.6-s clip, not two
        (Limits(decode_budget_samples=RATE, queue_wait_seconds=0.01), 0.6, "DECODE_BUDGET_EXHAUSTED"),
    ],
    ids=["concurrent embeds", "decode budget"],
)
def test_calls_beyond_a_limit_are_refused_not_queued_until_it_frees(limits, seconds, reason):
    model = _BlockingModel()
    core = EmbeddingCore(ModelRegistry([model]), limits, RootedFiles([], 0).read)
    content = synth.encode(synth.generate("tone", 1, seconds), RATE)
    first = threading.Thread(target=core.embed, args=(EmbedOptions("blocking"), content))
    first.start()
    assert model.entered.wait(timeout=10)
    with pytest.raises(errors.ResourceExhausted) as caught:
        core.embed(EmbedOptions("blocking"), content=content)
    assert caught.value.reason == reason and "retry later" in caught.value.message
    model.release.set()
    first.join(timeout=10)
    _, [segment] = core.embed(EmbedOptions("blocking"), content=content)
    assert segment.vector == [1.0, 0.0]
