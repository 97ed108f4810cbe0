"""Uploads between services: the audio in bounded chunks after a leading options message, or, for an import job's
batch of small clips, several whole clips in one message."""

from collections.abc import Iterator, Sequence

from audiosearch.sdk import errors

MAX_CHUNK_BYTES = 1024 * 1024
# A batch (BatchPutClipAudio) carries at most MAX_BATCH_CLIPS whole clips of at most MAX_CHUNK_BYTES each, at most
# MAX_BATCH_BYTES in all: well under the 16 MiB a service accepts by default. Larger clips are streamed, one a call.
MAX_BATCH_CLIPS = 64
MAX_BATCH_BYTES = 4 * MAX_CHUNK_BYTES


def chunked(content: bytes, size: int = MAX_CHUNK_BYTES):
    """Split content into stream chunks of at most `size` bytes."""
    for offset in range(0, len(content), size):
        yield content[offset : offset + size]


def batched(contents: Sequence[tuple[int, bytes]]) -> Iterator[list[tuple[int, bytes]]]:
    """(key, bytes) pairs of at most MAX_CHUNK_BYTES each, in order, in batches within MAX_BATCH_CLIPS and
    MAX_BATCH_BYTES. Callers stream larger clips on their own."""
    batch: list[tuple[int, bytes]] = []
    size = 0
    for clip_id, content in contents:
        if len(content) > MAX_CHUNK_BYTES:
            raise ValueError(f"clip {clip_id} holds {len(content)} bytes, over {MAX_CHUNK_BYTES}: stream it")
        if batch and (size + len(content) > MAX_BATCH_BYTES or len(batch) == MAX_BATCH_CLIPS):
            yield batch
            batch, size = [], 0
        batch.append((clip_id, content))
        size += len(content)
    if batch:
        yield batch


def check_batch(contents: Sequence[bytes], larger: str) -> None:
    """Refuse a batch over the limits above (INVALID_ARGUMENT, BATCH_TOO_LARGE); `larger` names the call for larger
    clips."""
    sizes = [len(content) for content in contents]
    if len(sizes) > MAX_BATCH_CLIPS or max(sizes, default=0) > MAX_CHUNK_BYTES or sum(sizes) > MAX_BATCH_BYTES:
        raise errors.InvalidArgument(
            f"a batch holds at most {MAX_BATCH_CLIPS} clips of at most {MAX_CHUNK_BYTES} bytes each and"
            f" {MAX_BATCH_BYTES} in all; send larger clips with {larger}",
            "BATCH_TOO_LARGE",
        )
