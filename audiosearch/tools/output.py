"""Terminal output of the CLI and the evaluation report: aligned tables, a stderr progress bar, JSON for scripts."""

import json
import sys

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

_INT64 = frozenset({FieldDescriptor.CPPTYPE_INT64, FieldDescriptor.CPPTYPE_UINT64})


def to_jsonable(value):
    """Protobuf messages (and lists of them) as plain dicts: proto field names, zero/false/empty fields included,
    int64 as numbers."""
    if isinstance(value, list):
        return [to_jsonable(item) for item in value]
    if isinstance(value, Message):
        data = MessageToDict(value, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
        return _int64_as_numbers(value.DESCRIPTOR, data)
    return value


def _int64_as_numbers(descriptor: Descriptor, data):
    # ProtoJSON quotes int64 for JavaScript's doubles; scripts want numbers, and Python's json writes ints exactly.
    if descriptor.full_name.startswith("google.protobuf."):
        return data  # well-known types keep their own JSON form (a Timestamp is a string)
    for field in descriptor.fields:
        if field.name in data:
            data[field.name] = _field_as_numbers(field, data[field.name])
    return data


def _field_as_numbers(field: FieldDescriptor, value):
    if isinstance(value, list):
        return [_field_as_numbers(field, item) for item in value]
    if field.cpp_type in _INT64:
        return int(value)
    if field.message_type is None:
        return value
    if field.message_type.GetOptions().map_entry:
        entry_value = field.message_type.fields_by_name["value"]
        return {key: _field_as_numbers(entry_value, item) for key, item in value.items()}
    return _int64_as_numbers(field.message_type, value)


def print_json(value) -> None:
    print(json.dumps(to_jsonable(value), indent=2, default=str))


def print_table(headers: list[str], rows: list[list]) -> None:
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(header), *(len(row[i]) for row in cells)]) for i, header in enumerate(headers)]
    print("  ".join(header.ljust(width) for header, width in zip(headers, widths, strict=True)).rstrip())
    print("  ".join("-" * width for width in widths))
    for row in cells:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


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
