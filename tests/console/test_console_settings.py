"""The console's settings: documented in docs/console.md as they are, refused with the variable's name when wrong."""

import pathlib

import pytest

from audiosearch.runtime.settings import load_settings, settings_table
from audiosearch.sdk.errors import SettingsError
from console.config import PREFIX, ConsoleSettings

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "console.md"


def test_every_setting_is_documented_with_its_default():
    rows = [f"| `{name}` | `{default}` | {doc} |" for name, default, doc in settings_table(ConsoleSettings, PREFIX)]
    text = DOC.read_text()
    missing = [row for row in rows if row not in text]
    assert not missing, "docs/console.md's settings table is stale; replace these rows:\n" + "\n".join(missing)


@pytest.mark.parametrize("listen", ["8080", "localhost", "127.0.0.1:http", ":8080"])
def test_a_listen_address_without_host_and_port_is_refused_by_name(listen):
    with pytest.raises(SettingsError, match="AUDIOSEARCH_CONSOLE_LISTEN"):
        load_settings(ConsoleSettings, PREFIX, {f"{PREFIX}LISTEN": listen})


def test_an_ipv6_listen_address_is_read():
    assert load_settings(ConsoleSettings, PREFIX, {f"{PREFIX}LISTEN": "[::]:8080"}).host_port == ("::", 8080)


def test_no_token_setting_exists():
    # Each browser sends its own token; the console must not hold one (docs/console.md, Tokens).
    assert not [name for name, _, _ in settings_table(ConsoleSettings, PREFIX) if "TOKEN" in name]
