"""Client-streamed uploads: the audio in bounded chunks after a leading options message."""

MAX_CHUNK_BYTES = 1024 * 1024


def chunked(content: bytes, size: int = MAX_CHUNK_BYTES):
    """Split content into stream chunks of at most `size` bytes."""
    for offset in range(0, len(content), size):
        yield content[offset : offset + size]
