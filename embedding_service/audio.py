"""The one audio decoder of the project: bytes in any format libsndfile reads -> float32 mono, and resampling."""

import io
import struct
from fractions import Fraction

import numpy as np
import soundfile
from scipy import signal

from audiosearch.common import domain, errors

MAX_SAMPLE_RATE = 384_000
MAX_CHANNELS = 64
# Frames per read: nothing is allocated up front from the header, and decoding stops at the first short read.
BLOCK_FRAMES = 1 << 16
_READABLE = "not a readable audio file (wav, flac, ogg, mp3)"


def decode(data: bytes, max_duration_seconds: float) -> tuple[np.ndarray, domain.AudioInfo]:
    """Decode an audio file's bytes to float32 mono samples and the facts of the original.

    Checks the header (rate, channels, duration) before decoding, and refuses empty, unreadable, truncated,
    non-finite and silent audio with InvalidArgument.
    """
    if not data:
        raise errors.InvalidArgument("the audio is empty: send the bytes of an audio file", "EMPTY_AUDIO")
    try:
        sound = soundfile.SoundFile(io.BytesIO(data))
    except soundfile.SoundFileRuntimeError as error:
        raise errors.InvalidArgument(f"{_READABLE}: {_reason(error)}", "UNSUPPORTED_AUDIO") from None
    with sound:
        info = _check_header(sound, data, max_duration_seconds)
        promised = sound.frames
        samples = _read_mono(sound)
    if samples.size < promised:
        raise errors.InvalidArgument(
            f"the {info.format} file is cut short: its header promises {promised} frames, "
            f"only {samples.size} are there; send the complete file",
            "TRUNCATED_AUDIO",
        )
    if not np.all(np.isfinite(samples)):
        raise errors.InvalidArgument("the audio holds NaN or infinite samples; send finite audio", "NON_FINITE_AUDIO")
    if not np.any(samples):
        raise errors.InvalidArgument("the audio is silent (all samples are zero); send audible audio", "SILENT_AUDIO")
    return samples, info


def _reason(error: Exception) -> str:
    return str(error).split(": ", 1)[-1] if "Error opening" in str(error) else str(error)


def _check_header(sound: soundfile.SoundFile, data: bytes, max_duration_seconds: float) -> domain.AudioInfo:
    fmt = sound.format.lower()
    if not 1 <= sound.samplerate <= MAX_SAMPLE_RATE:
        raise errors.InvalidArgument(
            f"sample rate {sound.samplerate} Hz is outside 1..{MAX_SAMPLE_RATE}", "UNSUPPORTED_AUDIO"
        )
    if not 1 <= sound.channels <= MAX_CHANNELS:
        raise errors.InvalidArgument(f"{sound.channels} channels is outside 1..{MAX_CHANNELS}", "UNSUPPORTED_AUDIO")
    if sound.frames <= 0:
        raise errors.InvalidArgument("the audio file holds no samples; send a clip with sound", "EMPTY_AUDIO")
    duration = sound.frames / sound.samplerate
    if duration > max_duration_seconds:
        raise errors.InvalidArgument(
            f"the audio lasts {duration:.1f} s; the limit is {max_duration_seconds:g} s: send a shorter clip "
            "or split it",
            "AUDIO_TOO_LONG",
        )
    if fmt == "wav" and _wav_data_is_cut(data):
        # libsndfile quietly shrinks the frame count to what is present, so the data chunk is checked here.
        raise errors.InvalidArgument(
            "the wav file is cut short: its data chunk is longer than the file; send the complete file",
            "TRUNCATED_AUDIO",
        )
    return domain.AudioInfo(duration, sound.samplerate, sound.channels, fmt)


def _wav_data_is_cut(data: bytes) -> bool:
    """Whether a RIFF/WAVE file's data chunk claims more bytes than follow it (unknown sizes are trusted)."""
    if data[:4] not in (b"RIFF", b"RIFX") or data[8:12] != b"WAVE":
        return False
    order = "<" if data[:4] == b"RIFF" else ">"
    offset = 12
    while offset + 8 <= len(data):
        chunk, size = data[offset : offset + 4], struct.unpack(order + "I", data[offset + 4 : offset + 8])[0]
        if chunk == b"data":
            # 0 and 0xFFFFFFFF are what streaming writers put when they do not know the length.
            return size not in (0, 0xFFFFFFFF) and offset + 8 + size > len(data)
        offset += 8 + size + (size & 1)
    return False


def _read_mono(sound: soundfile.SoundFile) -> np.ndarray:
    # Not SoundFile.blocks: on a short read it hands back its whole buffer, the missing tail uninitialised.
    blocks = []
    remaining = sound.frames
    try:
        while remaining > 0:
            wanted = min(BLOCK_FRAMES, remaining)
            block = sound.read(wanted, dtype="float32", always_2d=True)
            blocks.append(block.mean(axis=1, dtype=np.float32))
            if len(block) < wanted:
                break
            remaining -= wanted
    except soundfile.SoundFileRuntimeError as error:
        raise errors.InvalidArgument(
            f"the {sound.format.lower()} stream is damaged or cut short ({error}); send the complete file",
            "TRUNCATED_AUDIO",
        ) from None
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Samples at `to_rate`, band-limited (polyphase FIR anti-aliasing filter) so no alias folds into the result."""
    if from_rate == to_rate:
        return samples
    ratio = Fraction(to_rate, from_rate).limit_denominator(1000)
    return signal.resample_poly(samples, ratio.numerator, ratio.denominator).astype(np.float32)
