"""The console's settings: documented in docs/console.md as they are, refused with the variable's name when wrong;
the console alone, before a gateway is up."""

import json
import os
import pathlib
import socket
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request

import pytest

from audiosearch.runtime.settings import load_settings, settings_table
from audiosearch.sdk.errors import SettingsError
from audiosearch.tools.launcher import announced_port
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


def test_a_gateway_that_cannot_be_reached_is_a_503_naming_it(tmp_path):
    """The console alone, dialing a port nothing listens on: calls answer 503 UNAVAILABLE, reason PEER_UNAVAILABLE."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{probe.getsockname()[1]}"  # bound, never listening: connections are refused
        env = {**os.environ, f"{PREFIX}GATEWAY_ADDRESS": dead, f"{PREFIX}LISTEN": "127.0.0.1:0"}
        env[f"{PREFIX}CALL_TIMEOUT_SECONDS"] = "5"
        console = subprocess.Popen(
            [sys.executable, "-m", "console.server"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        try:
            port = announced_port("console", console, tmp_path / "console.log", 60)
            request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/GatewayService/ListModels", data=b"{}")
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=30)
            body = json.loads(refused.value.read())
            assert refused.value.code == 503 and body["error"]["status"] == "UNAVAILABLE"
            assert body["error"]["details"][0]["reason"] == "PEER_UNAVAILABLE" and "gateway" in body["error"]["message"]
        finally:
            console.terminate()
            assert console.wait(timeout=30) == 0  # SIGTERM: a clean stop


def test_the_page_installs_with_the_package():
    """pip install . (the images) installs package data only when pyproject.toml names it: every static file must be."""
    root = DOC.parents[1]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["console"]
    files = [path.relative_to(root / "console") for path in (root / "console" / "static").rglob("*") if path.is_file()]
    assert files and all(any(path.match(pattern) for pattern in patterns) for path in files), (files, patterns)
