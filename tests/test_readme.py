"""docs/configuration.md (linked from the README) documents every setting the services read, with its default."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONFIGURATION = ROOT / "docs" / "configuration.md"


def test_configuration_table_is_current():
    table = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "settings_table.py")], capture_output=True, text=True, check=True
    ).stdout
    doc = CONFIGURATION.read_text()
    missing = [line for line in table.splitlines() if line not in doc]
    assert not missing, (
        "docs/configuration.md configuration table is stale; paste `python scripts/settings_table.py`:\n"
        + "\n".join(missing)
    )
