"""Kept audio (docs/kept-audio.md): a clip's uploaded bytes, stored once per content hash, deleted with the last clip
that references them. No gRPC here.

The metadata service owns the blobs because it owns the clip records that reference them: whether a blob may go is
a question only the records answer. A blob is written before its reference (a clip marked audio_kept) and removed
only after its last reference, both under the hash's lock, so no reference ever points at a missing blob; a crash in
between leaves at most an unreferenced blob, which remove_orphans deletes.
"""

import contextlib
import hashlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from audiosearch.runtime import domain
from audiosearch.sdk.errors import FailedPrecondition, InvalidArgument, NotFound
from audiosearch.sdk.upload import check_batch
from metadata_service.blobs import BlobStore


def clip_not_found(clip_id: int) -> NotFound:
    return NotFound(
        f"clip {clip_id} does not exist; it may have been deleted (list a collection's clips to see their ids)",
        "CLIP_NOT_FOUND",
        clip_id=str(clip_id),
    )


# Locks striped by hash: a put and a release of the same blob never interleave in this process.
_LOCK_STRIPES = 64
# Blobs released per query and per delete call (S3's DeleteObjects takes at most 1,000 keys).
RELEASE_CHUNK = 1000


class AudioRecords(Protocol):
    """What kept audio needs of the clip records (metadata_service/store.py)."""

    def get_collection(self, name: str) -> domain.Collection | None: ...
    def get_clips(self, ids: Sequence[int]) -> dict[int, domain.Clip]: ...
    def mark_audio_kept(self, clip_ids: Sequence[int]) -> dict[int, domain.Clip]: ...
    def referenced_hashes(self, hashes: Sequence[str]) -> set[str]: ...


class ClipAudio:
    """Puts, reads and releases clips' kept audio in a BlobStore, keyed by the clips' content sha256."""

    def __init__(self, records: AudioRecords, blobs: BlobStore) -> None:
        self.records = records
        self.blobs = blobs
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]

    def _lock(self, sha256: str) -> threading.Lock:
        return self._locks[int(sha256[:8], 16) % _LOCK_STRIPES]

    @contextlib.contextmanager
    def _locked(self, hashes: Iterable[str]) -> Iterator[None]:
        """The locks of several hashes, taken in stripe order: two batches never deadlock."""
        stripes = sorted({int(sha256[:8], 16) % _LOCK_STRIPES for sha256 in hashes})
        with contextlib.ExitStack() as held:
            for stripe in stripes:
                held.enter_context(self._locks[stripe])
            yield

    def _clip(self, clip_id: int) -> domain.Clip:
        clip = self.records.get_clips([clip_id]).get(clip_id)
        if clip is None:
            raise clip_not_found(clip_id)
        return clip

    def _check(self, clip: domain.Clip, content: bytes, collections: dict[str, domain.Collection | None]) -> None:
        """Refuse bytes for a collection that keeps no audio and bytes that are not the clip's own."""
        if clip.collection not in collections:
            collections[clip.collection] = self.records.get_collection(clip.collection)
        collection = collections[clip.collection]
        if collection is None or not collection.keep_audio:
            raise FailedPrecondition(
                f"collection {clip.collection!r} does not keep audio (chosen at creation: keep_audio)",
                "AUDIO_NOT_KEPT",
                collection=clip.collection,
            )
        digest = hashlib.sha256(content).hexdigest()
        if digest != clip.content_sha256:
            raise InvalidArgument(
                f"the bytes hash to {digest}, not to clip {clip.id}'s content_sha256 {clip.content_sha256}:"
                " send the clip's own uploaded bytes, whole",
                "CONTENT_HASH_MISMATCH",
            )

    def put(self, clip_id: int, content: bytes) -> tuple[domain.Clip, bool]:
        """Keep the clip's uploaded bytes (they must hash to its content_sha256) and mark it audio_kept; the clip,
        and True when this call stored the bytes (False: another clip shares them, or a retry)."""
        clip = self._clip(clip_id)
        self._check(clip, content, {})
        with self._locked([clip.content_sha256]):
            stored = self.blobs.put(clip.content_sha256, content)
            kept = self.records.mark_audio_kept([clip.id]).get(clip.id)
            if kept is None:  # deleted meanwhile: its bytes must not outlive it
                self._release_locked(clip.content_sha256)
                raise clip_not_found(clip.id)
        return kept, stored

    def put_many(self, contents: Sequence[tuple[int, bytes]]) -> tuple[list[domain.Clip], list[int]]:
        """Keep several clips' uploaded bytes, each as `put` does (blob first, then the mark, under the hash's lock),
        the clips marked in one transaction: the clips now audio_kept, in the order given, and the ids of those that
        do not exist (deleted meanwhile), whose bytes are not kept. A refusal refuses the whole batch, unwritten."""
        check_batch([content for _, content in contents], "PutClipAudio")
        clips = self.records.get_clips([clip_id for clip_id, _ in contents])
        present = {clip_id: content for clip_id, content in contents if clip_id in clips}
        collections: dict[str, domain.Collection | None] = {}
        for clip_id, content in present.items():
            self._check(clips[clip_id], content, collections)
        by_hash = {clips[clip_id].content_sha256: content for clip_id, content in present.items()}
        with self._locked(by_hash):
            self.blobs.put_many(by_hash)
            kept = self.records.mark_audio_kept(list(present))
            for sha256 in {clips[clip_id].content_sha256 for clip_id in present if clip_id not in kept}:
                self._release_locked(sha256)  # deleted meanwhile: their bytes must not outlive them
        missing = [clip_id for clip_id, _ in contents if clip_id not in kept]
        return [kept[clip_id] for clip_id in dict.fromkeys(present) if clip_id in kept], list(dict.fromkeys(missing))

    def read(self, clip_id: int) -> tuple[domain.AudioBlob, Iterator[bytes]]:
        """The facts of the clip's kept audio and its bytes in chunks; FAILED_PRECONDITION when they are not kept."""
        clip = self._clip(clip_id)
        if not clip.audio_kept:
            raise FailedPrecondition(
                f"clip {clip.id}'s audio is not kept: collection {clip.collection!r} was created without keep_audio,"
                " or the clip was ingested before it was stored",
                "AUDIO_NOT_KEPT",
                collection=clip.collection,
                clip_id=str(clip.id),
            )
        stored = self.blobs.open(clip.content_sha256)
        if stored is None:
            raise FailedPrecondition(
                f"clip {clip.id}'s kept audio is missing from the audio store ({self.blobs.location});"
                " ingest the file again",
                "AUDIO_MISSING",
                clip_id=str(clip.id),
            )
        blob = domain.AudioBlob(
            sha256=clip.content_sha256,
            size_bytes=stored.size_bytes,
            format=clip.audio.format,
            end_seconds=clip.audio.duration_seconds,
        )
        return blob, stored.chunks

    def release(self, hashes: Sequence[str]) -> int:
        """Delete the blobs of `hashes` that no clip references any more (after their clips were deleted); returns
        how many were deleted. RELEASE_CHUNK hashes at a time, checked again under their locks in one query and
        deleted in one call (S3: one DeleteObjects): a dropped collection of 100k kept clips had cost a query and a
        delete per blob."""
        candidates = sorted(set(hashes) - self.records.referenced_hashes(hashes))
        deleted = 0
        for start in range(0, len(candidates), RELEASE_CHUNK):
            chunk = candidates[start : start + RELEASE_CHUNK]
            with self._locked(chunk):
                unreferenced = sorted(set(chunk) - self.records.referenced_hashes(chunk))
                self.blobs.delete_many(unreferenced)
            deleted += len(unreferenced)
        return deleted

    def _release_locked(self, sha256: str) -> int:
        if self.records.referenced_hashes([sha256]):
            return 0
        self.blobs.delete(sha256)
        return 1

    def remove_orphans(self, min_age_seconds: float, dry_run: bool) -> int:
        """Delete (or with dry_run count) blobs that no clip references and were written at least min_age_seconds
        ago: what a crash between a blob's write and its reference, or a delete's two steps, leaves behind."""
        if min_age_seconds < 0:
            raise InvalidArgument(f"min_age_seconds must be >= 0, not {min_age_seconds}", "INVALID_MIN_AGE")
        before = datetime.now(UTC) - timedelta(seconds=min_age_seconds)
        old = [sha256 for sha256, written in self.blobs.list() if written <= before]
        orphans = set(old) - self.records.referenced_hashes(old)
        if dry_run:
            return len(orphans)
        return self.release(sorted(orphans))
