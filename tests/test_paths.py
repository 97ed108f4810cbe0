"""Reading server-side files: the whole file, sized to it, and still refused when it grows past the limit while
it is read (a file's size at its fstat is only a first guess)."""

import os

import pytest

from audiosearch.runtime import paths
from audiosearch.sdk import errors


def test_a_file_is_read_whole(tmp_path):
    content = os.urandom(160_044)
    (tmp_path / "clip.wav").write_bytes(content)
    assert paths.read_regular_file(tmp_path / "clip.wav", 1 << 20) == content


def shrunk_fstat(monkeypatch, by: int) -> None:
    """The fstat reports the file `by` bytes shorter than it is, as if it grew right after."""
    real = os.fstat

    def fstat(descriptor):
        facts = real(descriptor)
        return os.stat_result((*facts[:6], facts.st_size - by, *facts[7:]))

    monkeypatch.setattr(paths.os, "fstat", fstat)


def test_a_file_that_grows_while_it_is_read_is_read_whole(tmp_path, monkeypatch):
    content = os.urandom(10_000)
    (tmp_path / "clip.wav").write_bytes(content)
    shrunk_fstat(monkeypatch, 4_000)
    assert paths.read_regular_file(tmp_path / "clip.wav", 1 << 20) == content


def test_a_file_that_grows_past_the_limit_while_it_is_read_is_refused(tmp_path, monkeypatch):
    (tmp_path / "clip.wav").write_bytes(os.urandom(10_000))
    shrunk_fstat(monkeypatch, 4_000)
    with pytest.raises(errors.ResourceExhausted) as raised:
        paths.read_regular_file(tmp_path / "clip.wav", 8_000)
    assert raised.value.reason == "AUDIO_TOO_LARGE"
