"""Every service's main() refuses a setting it cannot read the same way: one line on stderr, exit 2, no traceback."""

import os
import subprocess
import sys

import pytest

from audiosearch.runtime.settings import BAD_SETTING_EXIT_STATUS

SERVICES = {
    "embedding_service": "AUDIOSEARCH_EMBEDDING_",
    "search_service": "AUDIOSEARCH_SEARCH_",
    "metadata_service": "AUDIOSEARCH_METADATA_",
    "gateway": "AUDIOSEARCH_GATEWAY_",
}


@pytest.mark.parametrize("package", SERVICES)
def test_a_bad_setting_stops_the_service_with_one_line_and_status_2(package):
    # The gateway's required peer addresses are set, so the bad value is what it stops on.
    peers = {f"AUDIOSEARCH_GATEWAY_{peer}_ADDRESS": "127.0.0.1:1" for peer in ("EMBEDDING", "SEARCH", "METADATA")}
    env = {**os.environ, **peers, f"{SERVICES[package]}MAX_WORKERS": "many"}
    result = subprocess.run(
        [sys.executable, "-m", f"{package}.server"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == BAD_SETTING_EXIT_STATUS == 2
    assert "Traceback" not in result.stderr
    line = result.stderr.strip()
    assert "\n" not in line and f"{SERVICES[package]}MAX_WORKERS='many'" in line, result.stderr
