"""Container checks libsndfile does not make: whether a file's own structure says bytes are missing at its end."""

import struct

_OGG_PAGE_HEADER = struct.Struct("<4sBBqIIIB")  # capture, version, flags, granule, serial, sequence, crc, segments
_OGG_END_OF_STREAM = 0x04


def is_cut(fmt: str, data: bytes) -> bool:
    """Whether a file of format `fmt` (libsndfile's name, lower case) lacks bytes its structure promises."""
    if fmt == "wav":
        return _wav_data_is_cut(data)
    if fmt == "ogg":
        return _ogg_is_cut(data)
    return False


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


def _ogg_is_cut(data: bytes) -> bool:
    """Whether an Ogg file's last page is incomplete or lacks the end-of-stream flag.

    libsndfile takes an Ogg stream's length from the last page it finds, so a cut file reads as a shorter clip.
    """
    offset, last_flags = data.find(b"OggS"), None
    while offset >= 0:
        table = offset + _OGG_PAGE_HEADER.size
        if table > len(data):
            return True
        _, _, last_flags, *_, segments = _OGG_PAGE_HEADER.unpack_from(data, offset)
        end = table + segments + sum(data[table : table + segments])
        if end > len(data):
            return True
        # The next page follows at once; find() also skips junk between pages, as libogg resynchronises.
        offset = data.find(b"OggS", end)
    return last_flags is None or not last_flags & _OGG_END_OF_STREAM
