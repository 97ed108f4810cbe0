"""Fuzz target (atheris) for the one audio decoder: embedding_service.audio.decode.

Any input must either decode to finite, non-silent float32 mono samples with consistent facts, or raise
InvalidArgument. Anything else (another exception, a crash, a hang, NaN samples) is a finding.

    .venv/bin/pip install atheris
    .venv/bin/python fuzz/fuzz_decode.py -atheris_runs=100000 fuzz/corpus      # bounded run
    .venv/bin/python fuzz/fuzz_decode.py fuzz/corpus                           # until stopped
    .venv/bin/python fuzz/make_corpus.py fuzz/corpus                           # seeds: valid wav/flac/ogg/mp3

The corpus folder is created by make_corpus.py; libFuzzer adds what it finds to it.
"""

import sys

import atheris
import numpy as np
import scipy.signal  # noqa: F401 - imported before instrumentation: only our code gets coverage hooks
import soundfile  # noqa: F401

with atheris.instrument_imports(include=["embedding_service", "audiosearch"]):
    from audiosearch.sdk import errors
    from embedding_service import audio

MAX_SECONDS = 30.0


def test_one_input(data: bytes) -> None:
    try:
        samples, info = audio.decode(data, MAX_SECONDS)
    except errors.InvalidArgument:
        return
    assert samples.dtype == np.float32 and samples.ndim == 1 and samples.size > 0
    assert np.isfinite(samples).all() and samples.any()
    assert 1 <= info.sample_rate <= audio.MAX_SAMPLE_RATE and 1 <= info.channels <= audio.MAX_CHANNELS
    assert 0 < info.duration_seconds <= MAX_SECONDS


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
