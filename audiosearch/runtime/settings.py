"""One settings loader for every service: a frozen dataclass filled once from AUDIOSEARCH_<SERVICE>_* env vars.

A field without a default is required: a missing value fails fast at start-up, naming the variable.
"""

import dataclasses
import os
import sys
import typing
from collections.abc import Mapping
from typing import Any, NoReturn, TypeVar

from audiosearch.sdk.errors import SettingsError

T = TypeVar("T")


def env_name(prefix: str, field_name: str) -> str:
    return f"{prefix}{field_name.upper()}"


def _parse(raw: str, kind: type, name: str):
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if kind in (tuple, tuple[str, ...]):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        return kind(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a valid {getattr(kind, '__name__', kind)}") from None


def load_settings(cls: type[T], prefix: str, environ: Mapping[str, str] | None = None) -> T:
    """Build `cls` (a dataclass) from env vars named prefix + FIELD_NAME."""
    environ = os.environ if environ is None else environ
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(typing.cast(Any, cls)):
        name = env_name(prefix, field.name)
        if name in environ:
            values[field.name] = _parse(environ[name], hints[field.name], name)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise SettingsError(f"{name} is required (set it to the address or value this service needs)")
    return cls(**values)


def settings_table(cls: type, prefix: str) -> list[tuple[str, str, str]]:
    """(env var, default, description) rows for documentation."""
    rows = []
    for field in dataclasses.fields(cls):
        default = "(required)" if field.default is dataclasses.MISSING else repr(field.default)
        rows.append((env_name(prefix, field.name), default, field.metadata.get("doc", "")))
    return rows


# A setting that cannot be read is a usage error: exit status 2, as for a bad command line.
BAD_SETTING_EXIT_STATUS = 2


def exit_on_bad_setting(program: str, error: SettingsError) -> NoReturn:
    """What every service's main() does with a setting it cannot read: one line on stderr, no traceback."""
    print(f"{program}: {error}", file=sys.stderr)
    raise SystemExit(BAD_SETTING_EXIT_STATUS)
