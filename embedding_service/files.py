"""Reading `uri` audio sources from the server's disk, confined to the configured roots."""

from collections.abc import Iterable
from urllib.parse import unquote, urlparse

from audiosearch.runtime import paths
from audiosearch.sdk import errors


class RootedFiles:
    """Reads plain paths and file:// uris that resolve (after `..` and symlinks) inside `roots`."""

    def __init__(self, roots: Iterable[str], max_bytes: int) -> None:
        self.roots = tuple(roots)
        self.max_bytes = max_bytes

    def read(self, uri: str) -> bytes:
        return paths.read_regular_file(paths.resolve_inside(_local_path(uri), self.roots), self.max_bytes)


def _local_path(uri: str) -> str:
    parsed = urlparse(uri)
    if parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
        return unquote(parsed.path)
    if parsed.scheme:
        raise errors.InvalidArgument(
            f"cannot read {uri}: only server paths and file:// uris are supported; send the content instead",
            "UNSUPPORTED_URI",
        )
    return uri
