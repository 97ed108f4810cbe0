"""Reassembly of client-streamed uploads: the first message carries options, the next ones bounded chunks.

Clients split them with audiosearch.sdk.upload.chunked.
"""

from collections.abc import Iterable

from audiosearch.sdk import errors
from audiosearch.sdk.upload import MAX_CHUNK_BYTES


def assemble_upload(messages: Iterable, options_field: str, max_total_bytes: int):
    """Return (options, content) from a stream of `oneof payload { options; bytes chunk }` messages.

    Refuses a stream without leading options, a chunk over 1 MiB, and a total over `max_total_bytes`.
    """
    stream = iter(messages)
    first = next(stream, None)
    if first is None or first.WhichOneof("payload") != options_field:
        raise errors.InvalidArgument(
            f"the first message of the stream must carry `{options_field}`, then the audio in chunks",
            "OPTIONS_FIRST",
        )
    options = getattr(first, options_field)
    parts: list[bytes] = []
    total = 0
    for message in stream:
        if message.WhichOneof("payload") != "chunk":
            raise errors.InvalidArgument(f"`{options_field}` may only be sent once, first", "OPTIONS_TWICE")
        if len(message.chunk) > MAX_CHUNK_BYTES:
            raise errors.InvalidArgument(
                f"a chunk holds {len(message.chunk)} bytes; send at most {MAX_CHUNK_BYTES} per message",
                "CHUNK_TOO_LARGE",
            )
        total += len(message.chunk)
        if total > max_total_bytes:
            raise errors.ResourceExhausted(
                f"the upload exceeds {max_total_bytes} bytes; send a shorter clip", "AUDIO_TOO_LARGE"
            )
        parts.append(message.chunk)
    return options, b"".join(parts)
