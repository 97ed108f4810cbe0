"""The one audio decoder of the project: bytes in any format libsndfile reads -> float32 mono, and resampling."""

import io
from collections.abc import Iterator

import numpy as np
import soundfile

from audiosearch.runtime import domain
from audiosearch.sdk import errors
from embedding_service import containers
from embedding_service.resampling import Resampler, output_size, rate_ratio, resample

MAX_SAMPLE_RATE = 384_000
MAX_CHANNELS = 64
# Rate x channels x duration one clip may decode to: 10 minutes of 96 kHz stereo.
MAX_DECODED_SAMPLES = 600 * 96_000 * 2
# Float audio's full scale is 1; beyond 120 dB over it a file is broken, not loud (integer-scale floats pass).
MAX_ABS_SAMPLE = 1e6
# Frames per read: all decoding holds beyond the result (whose pages are touched only as samples arrive).
BLOCK_FRAMES = 1 << 16
_READABLE = "not a readable audio file (wav, flac, ogg, mp3)"

__all__ = ["Clip", "decode", "encode_wav", "open_audio", "resample"]


def decode(
    data: bytes, max_duration_seconds: float, to_rate: int | None = None, max_decoded_samples: int = MAX_DECODED_SAMPLES
) -> tuple[np.ndarray, domain.AudioInfo]:
    """Decode an audio file's bytes to float32 mono samples (at `to_rate`, or the file's own rate) and the facts of
    the original. See open_audio and Clip.read for what is refused."""
    with open_audio(data, max_duration_seconds, max_decoded_samples) as clip:
        return clip.read(to_rate), clip.info


def encode_wav(samples: np.ndarray, sample_rate: int) -> bytes:
    """Mono float samples as a 16-bit PCM WAV file's bytes (what players read everywhere)."""
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def open_audio(data: bytes, max_duration_seconds: float, max_decoded_samples: int = MAX_DECODED_SAMPLES) -> "Clip":
    """An audio file whose header was checked, not yet decoded; use it in a with-statement.

    Refuses empty, unreadable and cut files and those over the limits (rate, channels, duration) with
    InvalidArgument, and those that would decode to more than max_decoded_samples (rate x channels x duration)
    with ResourceExhausted, all before decoding anything.
    """
    if not data:
        raise errors.InvalidArgument("the audio is empty: send the bytes of an audio file", "EMPTY_AUDIO")
    try:
        sound = soundfile.SoundFile(io.BytesIO(data))
    except soundfile.SoundFileRuntimeError as error:
        raise errors.InvalidArgument(f"{_READABLE}: {_reason(error)}", "UNSUPPORTED_AUDIO") from None
    try:
        return Clip(sound, _check_header(sound, data, max_duration_seconds, max_decoded_samples))
    except BaseException:
        sound.close()
        raise


class Clip:
    """An open audio file: its facts (info) and its promised length, decoded on read()."""

    def __init__(self, sound: soundfile.SoundFile, info: domain.AudioInfo) -> None:
        self._sound = sound
        self.info = info
        self.frames = sound.frames

    def __enter__(self) -> "Clip":
        return self

    def __exit__(self, *exc_info) -> None:
        self._sound.close()

    def size_at(self, rate: int) -> int:
        """How many samples read(rate) returns: what the clip costs to hold."""
        return output_size(self.frames, rate_ratio(self.info.sample_rate, rate))

    def read(self, to_rate: int | None = None) -> np.ndarray:
        """Decode to float32 mono at `to_rate` (default: the file's rate), block by block: memory is the result's
        plus a block's. Refuses truncated, non-finite, far out-of-range and silent audio with InvalidArgument."""
        resampler = Resampler(self.info.sample_rate, to_rate or self.info.sample_rate, self.frames)
        audible = False
        for block in _mono_blocks(self._sound, self.frames):
            audible = audible or bool(np.any(block))
            resampler.push(block)
        if resampler.received < self.frames:
            raise errors.InvalidArgument(
                f"the {self.info.format} file is cut short: its header promises {self.frames} frames, "
                f"only {resampler.received} are there; send the complete file",
                "TRUNCATED_AUDIO",
            )
        if not audible:
            raise errors.InvalidArgument(
                "the audio is silent (all samples are zero); send audible audio", "SILENT_AUDIO"
            )
        return resampler.finish()


def _reason(error: Exception) -> str:
    return str(error).split(": ", 1)[-1] if "Error opening" in str(error) else str(error)


def _check_header(
    sound: soundfile.SoundFile, data: bytes, max_duration_seconds: float, max_decoded_samples: int
) -> domain.AudioInfo:
    fmt = sound.format.lower()
    if not 1 <= sound.samplerate <= MAX_SAMPLE_RATE:
        raise errors.InvalidArgument(
            f"sample rate {sound.samplerate} Hz is outside 1..{MAX_SAMPLE_RATE}", "UNSUPPORTED_AUDIO"
        )
    if not 1 <= sound.channels <= MAX_CHANNELS:
        raise errors.InvalidArgument(f"{sound.channels} channels is outside 1..{MAX_CHANNELS}", "UNSUPPORTED_AUDIO")
    if containers.is_cut(fmt, data):
        # libsndfile quietly shrinks the frame count to what is present, so the container is checked here.
        raise errors.InvalidArgument(
            f"the {fmt} file is cut short: its structure promises more bytes than it holds; send the complete file",
            "TRUNCATED_AUDIO",
        )
    if sound.frames <= 0:
        raise errors.InvalidArgument("the audio file holds no samples; send a clip with sound", "EMPTY_AUDIO")
    duration = sound.frames / sound.samplerate
    if duration > max_duration_seconds:
        raise errors.InvalidArgument(
            f"the audio lasts {duration:.1f} s; the limit is {max_duration_seconds:g} s: send a shorter clip "
            "or split it",
            "AUDIO_TOO_LONG",
        )
    if sound.frames * sound.channels > max_decoded_samples:
        raise errors.ResourceExhausted(
            f"the audio decodes to {sound.frames * sound.channels} samples ({sound.samplerate} Hz x "
            f"{sound.channels} channels x {duration:.1f} s); the limit is {max_decoded_samples}: send it at a lower "
            "sample rate, with fewer channels or shorter",
            "DECODED_AUDIO_TOO_LARGE",
        )
    return domain.AudioInfo(duration, sound.samplerate, sound.channels, fmt)


def _mono_blocks(sound: soundfile.SoundFile, frames: int) -> Iterator[np.ndarray]:
    """The file's samples mixed down to mono, BLOCK_FRAMES at a time, each checked for non-finite and absurd values."""
    # Not SoundFile.blocks: on a short read it hands back its whole buffer, the missing tail uninitialised.
    remaining = frames
    try:
        while remaining > 0:
            wanted = min(BLOCK_FRAMES, remaining)
            block = sound.read(wanted, dtype="float32", always_2d=True)
            _check_magnitude(block)
            yield block.mean(axis=1, dtype=np.float32)
            if len(block) < wanted:
                return
            remaining -= wanted
    except soundfile.SoundFileRuntimeError as error:
        raise errors.InvalidArgument(
            f"the {sound.format.lower()} stream is damaged or cut short ({error}); send the complete file",
            "TRUNCATED_AUDIO",
        ) from None


def _check_magnitude(block: np.ndarray) -> None:
    # Checked per channel before mixing, where a huge sum could overflow into inf and hide the cause.
    peak = float(np.max(np.abs(block))) if block.size else 0.0
    if not np.isfinite(peak):
        raise errors.InvalidArgument("the audio holds NaN or infinite samples; send finite audio", "NON_FINITE_AUDIO")
    if peak > MAX_ABS_SAMPLE:
        raise errors.InvalidArgument(
            f"the audio holds samples of magnitude {peak:g}, beyond the limit of {MAX_ABS_SAMPLE:g} (full scale is "
            "1.0): the file is damaged or mis-scaled; send audio normalised to [-1, 1]",
            "AUDIO_OUT_OF_RANGE",
        )
