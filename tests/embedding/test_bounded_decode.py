"""Decoding costs memory in proportion to what the model gets, never to what a file's header promises."""

import resource
import tracemalloc

import numpy as np
import pytest
from scipy import signal

from audiosearch.runtime import memory
from audiosearch.sdk import errors
from audiosearch.tools import synth
from embedding_service.core import EmbeddingCore, EmbedOptions, Limits
from embedding_service.files import RootedFiles
from embedding_service.models.base import EmbeddingModel
from embedding_service.models.registry import ModelRegistry
from embedding_service.resampling import Resampler

MODEL_RATE = 16000


class _Constant(EmbeddingModel):
    """Keeps the waveform it is given and embeds nothing, so memory measured is the decoder's alone."""

    name, dimension, sample_rate, min_duration_seconds = "constant", 2, MODEL_RATE, 0.1

    def embed_batch(self, waveforms):
        self.received = waveforms[0]
        return np.tile(np.float32([1, 0]), (len(waveforms), 1))


def test_a_long_high_rate_clip_costs_the_memory_of_its_result_not_of_its_source():
    seconds, rate = 60, 384_000
    data = synth.near_silence_flac(seconds, rate)
    model = _Constant()
    core = EmbeddingCore(ModelRegistry([model]), Limits(max_duration_seconds=600), RootedFiles([], 0).read)
    tracemalloc.start()
    try:
        core.embed(EmbedOptions("constant"), content=data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    result_bytes = seconds * MODEL_RATE * 4
    assert model.received.size == seconds * MODEL_RATE
    # The source at 384 kHz would be 92 MB as float32; the result is 3.8 MB.
    assert peak < 2 * result_bytes + 8 * 2**20, f"peak {peak / 2**20:.1f} MiB"


@pytest.mark.parametrize(
    "from_rate, to_rate",
    [(44100, 16000), (48000, 16000), (384000, 16000), (8000, 32000), (22050, 32000), (11025, 16000)],
)
def test_resampling_block_by_block_matches_resampling_at_once(from_rate, to_rate):
    samples = np.random.default_rng(0).standard_normal(3 * from_rate + 123).astype(np.float32)
    resampler = Resampler(from_rate, to_rate, samples.size)
    for start in range(0, samples.size, 7919):  # odd block sizes, so joins fall anywhere
        resampler.push(samples[start : start + 7919])
    streamed = resampler.finish()
    ratio = resampler.ratio
    at_once = signal.resample_poly(samples, ratio.numerator, ratio.denominator)
    np.testing.assert_array_equal(streamed, at_once)


def test_the_resampler_refuses_more_samples_than_promised():
    resampler = Resampler(48000, 16000, 100)
    with pytest.raises(ValueError):
        resampler.push(np.zeros(101, dtype=np.float32))


def test_a_clip_over_the_whole_decode_budget_is_refused_before_decoding():
    core = EmbeddingCore(
        ModelRegistry([_Constant()]), Limits(decode_budget_samples=MODEL_RATE), RootedFiles([], 0).read
    )
    with pytest.raises(errors.ResourceExhausted) as caught:
        core.embed(EmbedOptions("constant"), content=synth.near_silence_flac(2, 384_000))
    assert caught.value.reason == "DECODE_BUDGET_EXHAUSTED"
    assert "32000 samples" in caught.value.message and "16000" in caught.value.message


def test_logmel_works_on_long_clips_in_blocks_of_frames(logmel):
    waveform = np.random.default_rng(1).standard_normal(120 * MODEL_RATE).astype(np.float32) * 0.1
    tracemalloc.start()
    try:
        logmel.embed_batch([waveform])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # All frames' spectra at once would be ~75 MB for these 120 s.
    assert peak < 24 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_a_short_clips_arrays_reuse_freed_memory_instead_of_fresh_pages(logmel):
    """Fresh pages cost a fault each: a 5-s clip's ~1 MB arrays mapped and unmapped per call faulted ~900 pages and
    spent a third of logmel's CPU in the kernel."""
    assert memory.set_allocator_thresholds(memory.DECODING)  # glibc, as in the service's image
    waveform = np.random.default_rng(2).standard_normal(5 * MODEL_RATE).astype(np.float32) * 0.1
    for _ in range(3):  # the heap grows to the calls' working set once
        logmel.embed_batch([waveform])
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    for _ in range(5):
        logmel.embed_batch([waveform])
    faults = (resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before) / 5
    assert faults < 50, f"{faults:.0f} page faults per 5-s clip"
