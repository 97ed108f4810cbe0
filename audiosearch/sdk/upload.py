"""Uploads between services: the audio in bounded chunks after a leading options message, or, for an import job's
batch of small clips, several whole clips in one message."""

from collections.abc import Iterator, Sequence

MAX_CHUNK_BYTES = 1024 * 1024
# A batch put (BatchPutClipAudio) carries whole clips of at most MAX_CHUNK_BYTES each, at most this much in all:
# well under the 16 MiB a metadata service accepts by default. Larger clips are streamed, one call each.
MAX_BATCH_BYTES = 4 * MAX_CHUNK_BYTES


def chunked(content: bytes, size: int = MAX_CHUNK_BYTES):
    """Split content into stream chunks of at most `size` bytes."""
    for offset in range(0, len(content), size):
        yield content[offset : offset + size]


def batched(contents: Sequence[tuple[int, bytes]]) -> Iterator[list[tuple[int, bytes]]]:
    """(clip id, bytes) pairs of at most MAX_CHUNK_BYTES each, in batches of at most MAX_BATCH_BYTES in all, in
    order. Callers stream larger clips on their own."""
    batch: list[tuple[int, bytes]] = []
    size = 0
    for clip_id, content in contents:
        if len(content) > MAX_CHUNK_BYTES:
            raise ValueError(f"clip {clip_id} holds {len(content)} bytes, over {MAX_CHUNK_BYTES}: stream it")
        if batch and size + len(content) > MAX_BATCH_BYTES:
            yield batch
            batch, size = [], 0
        batch.append((clip_id, content))
        size += len(content)
    if batch:
        yield batch
