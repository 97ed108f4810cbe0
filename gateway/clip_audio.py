"""GetClipAudio (docs/kept-audio.md): a clip's kept audio, whole as uploaded, or a time range of it as a WAV.

The metadata service keeps the bytes; the embedding service, owner of decoding, cuts a range. The bytes are read
whole before the first message is sent, so a refusal or a failed read is an error, never a stream cut short, and a
slow reader holds no call to the metadata service open.
"""

import hashlib
from collections.abc import Iterator
from typing import Protocol

from audiosearch.runtime import domain, rules
from audiosearch.sdk import errors
from audiosearch.sdk.upload import chunked


def keeps_audio_by_default(purpose: str) -> bool:
    """Kept unless the collection is for speakers, whose audio is biometric data."""
    return purpose != "SPEAKERS"


class AudioCatalog(Protocol):
    def get_collection(self, name: str) -> domain.Collection: ...
    def get_clip(self, clip_id: int) -> domain.Clip: ...
    def read_clip_audio(self, clip_id: int) -> tuple[domain.AudioBlob, Iterator[bytes]]: ...


class AudioCutter(Protocol):
    def cut(self, content: bytes, start_seconds: float, end_seconds: float | None) -> tuple[bytes, float, float]: ...


def read(
    catalog: AudioCatalog,
    cutter: AudioCutter,
    collection: str,
    clip_id: int,
    start_seconds: float | None,
    end_seconds: float | None,
) -> tuple[domain.AudioBlob, Iterator[bytes]]:
    """The facts of what is returned and its bytes in chunks: the uploaded file when no time is given, else a
    16-bit WAV of [start, end) (an unset start is 0, an unset end the clip's end)."""
    found = catalog.get_collection(collection)
    clip = catalog.get_clip(clip_id)
    if clip.collection != found.name:
        raise errors.InvalidArgument(f"clip {clip.id} belongs to collection {clip.collection!r}", "WRONG_COLLECTION")
    if not clip.audio_kept:
        why = "it was created with keep_audio off" if not found.keep_audio else "the clip's ingest did not finish"
        raise errors.FailedPrecondition(
            f"clip {clip.id}'s audio is not kept: {why} (docs/kept-audio.md)",
            "AUDIO_NOT_KEPT",
            collection=found.name,
            clip_id=str(clip.id),
        )
    ranged = start_seconds is not None or end_seconds is not None
    if ranged:  # refused before any byte is read
        rules.time_range(start_seconds or 0.0, end_seconds, clip.audio.duration_seconds)
    blob, chunks = catalog.read_clip_audio(clip.id)
    content = b"".join(chunks)
    if not ranged:
        return blob, chunked(content)
    wav, start, end = cutter.cut(content, start_seconds or 0.0, end_seconds)
    cut = domain.AudioBlob(hashlib.sha256(wav).hexdigest(), len(wav), "wav", start_seconds=start, end_seconds=end)
    return cut, chunked(wav)
