"""Terminal output: aligned tables, a progress bar on stderr, and JSON for scripts."""

import json
import sys

from google.protobuf.json_format import MessageToDict


def to_jsonable(value):
    """Protobuf messages (and lists of them) as plain dicts with the proto field names."""
    if isinstance(value, list):
        return [to_jsonable(item) for item in value]
    if hasattr(value, "DESCRIPTOR"):
        return MessageToDict(value, preserving_proto_field_name=True)
    return value


def print_json(value) -> None:
    print(json.dumps(to_jsonable(value), indent=2, default=str))


def print_table(headers: list[str], rows: list[list]) -> None:
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(header), *(len(row[i]) for row in cells)]) for i, header in enumerate(headers)]
    print("  ".join(header.ljust(width) for header, width in zip(headers, widths)).rstrip())
    print("  ".join("-" * width for width in widths))
    for row in cells:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


class Progress:
    """A one-line progress bar on stderr (only when stderr is a terminal, so logs stay clean)."""

    def __init__(self, total: int, label: str = "") -> None:
        self.total = max(total, 1)
        self.label = label
        self.enabled = sys.stderr.isatty()

    def update(self, done: int, note: str = "") -> None:
        if not self.enabled:
            return
        filled = int(30 * done / self.total)
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total} {note[:40]:<40}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
