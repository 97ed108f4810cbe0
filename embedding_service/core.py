"""Embedding logic without gRPC: decode -> check -> resample -> window -> batch through the model."""

import dataclasses
import threading
from collections.abc import Callable

import numpy as np

from audiosearch.runtime import domain, rules
from audiosearch.sdk import errors
from embedding_service import audio, segments, speech
from embedding_service.budget import SampleBudget
from embedding_service.models.registry import ModelRegistry

# Windows per embed_batch call: bounds the memory of one batch on long clips.
BATCH_WINDOWS = 64
# A cut range is returned at the clip's rate up to this: 10 minutes of 16-bit mono stay under 60 MB.
MAX_CUT_SAMPLE_RATE = 48_000


@dataclasses.dataclass(frozen=True)
class Limits:
    max_audio_bytes: int = 64 * 1024 * 1024
    max_duration_seconds: float = 600.0
    max_concurrent_embeds: int = 8
    # Rate x channels x duration one clip may decode to, checked from its header.
    max_decoded_samples: int = audio.MAX_DECODED_SAMPLES
    # Mono samples at the models' rates all calls may hold at once: each costs up to ~40 bytes with a model's work.
    decode_budget_samples: int = 24_000_000
    # How long a call waits for an embedding slot before it is refused, so overload fails fast.
    queue_wait_seconds: float = 1.0


@dataclasses.dataclass(frozen=True)
class EmbedOptions:
    model: str
    segments: domain.SegmentOptions = domain.SegmentOptions()


class EmbeddingCore:
    def __init__(self, registry: ModelRegistry, limits: Limits, read_uri: Callable[[str], bytes]) -> None:
        self.registry = registry
        self.limits = limits
        self.read_uri = read_uri
        self._slots = threading.BoundedSemaphore(limits.max_concurrent_embeds)
        self._budget = SampleBudget(limits.decode_budget_samples, limits.queue_wait_seconds)

    @property
    def max_audio_bytes(self) -> int:
        return self.limits.max_audio_bytes

    def list_models(self) -> list[domain.ModelInfo]:
        """Every model this service holds, including those that cannot serve (with the reason)."""
        return [model.info() for model in self.registry.models()]

    def embed(
        self, options: EmbedOptions, content: bytes | None = None, uri: str | None = None
    ) -> tuple[domain.AudioInfo, list[domain.Segment]]:
        """Embed one clip, given as file bytes (`content`) or a server path (`uri`).

        Returns the decoded audio's facts and one segment for the whole clip, or one per window when
        options.segments has a window. Raises domain errors for bad options, bad audio and overload.
        """
        if not options.model:
            raise errors.InvalidArgument("options.model is required; ListModels names the models", "MISSING_MODEL")
        model = self.registry.get(options.model)
        rules.check_segments(options.segments, model.min_duration_seconds)
        if (content is None) == (uri is None):
            raise errors.InvalidArgument("send the audio as exactly one of content or uri", "MISSING_AUDIO")
        if not self._slots.acquire(timeout=self.limits.queue_wait_seconds):
            raise errors.ResourceExhausted("embedding queue full; retry later", "EMBEDDING_BUSY")
        try:
            data = self.read_uri(uri) if uri is not None else content or b""  # content is set when uri is not
            if len(data) > self.limits.max_audio_bytes:
                raise errors.ResourceExhausted(
                    f"the audio exceeds {self.limits.max_audio_bytes} bytes; send a shorter clip", "AUDIO_TOO_LARGE"
                )
            with audio.open_audio(data, self.limits.max_duration_seconds, self.limits.max_decoded_samples) as clip:
                info = clip.info
                if info.duration_seconds < model.min_duration_seconds:
                    raise errors.InvalidArgument(
                        f"the audio lasts {info.duration_seconds:.3f} s; model {model.name} needs at least "
                        f"{model.min_duration_seconds:g} s",
                        "AUDIO_TOO_SHORT",
                    )
                # Reserved from the header's promise before decoding, held until the model is done with it.
                with self._budget.hold(clip.size_at(model.sample_rate)):
                    samples = clip.read(model.sample_rate)
                    info = dataclasses.replace(info, speech_seconds=speech.speech_seconds(samples, model.sample_rate))
                    return info, self._segments(model, samples, options.segments)
        finally:
            self._slots.release()

    def cut(self, content: bytes, start_seconds: float, end_seconds: float | None) -> tuple[bytes, float, float]:
        """A time range of a clip (end None: to its end, a later end: clamped to it) as a 16-bit PCM WAV, mono, at
        the clip's rate capped at MAX_CUT_SAMPLE_RATE; and the range it holds. INVALID_ARGUMENT for a range that is
        not a part of the clip."""
        if len(content) > self.limits.max_audio_bytes:
            raise errors.ResourceExhausted(
                f"the audio exceeds {self.limits.max_audio_bytes} bytes; send a shorter clip", "AUDIO_TOO_LARGE"
            )
        with audio.open_audio(content, self.limits.max_duration_seconds, self.limits.max_decoded_samples) as clip:
            start, end = rules.time_range(start_seconds, end_seconds, clip.info.duration_seconds)
            rate = min(clip.info.sample_rate, MAX_CUT_SAMPLE_RATE)
            with self._budget.hold(clip.size_at(rate)):
                samples = clip.read(rate)
                wav = audio.encode_wav(samples[int(start * rate) : round(end * rate)], rate)
        return wav, start, end

    def _segments(self, model, samples: np.ndarray, options: domain.SegmentOptions) -> list[domain.Segment]:
        rate = model.sample_rate
        if options.enabled:
            ranges = segments.windows(samples.size, rate, options.window_seconds, options.hop_seconds)
        else:
            ranges = [(0, samples.size)]
        vectors = np.concatenate(
            [
                model.embed_windows(samples, ranges[first : first + BATCH_WINDOWS])
                for first in range(0, len(ranges), BATCH_WINDOWS)
            ]
        )
        return [
            domain.Segment(vector.tolist(), start / rate, end / rate)
            for vector, (start, end) in zip(vectors, ranges, strict=True)
        ]
