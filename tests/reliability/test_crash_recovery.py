"""Crash recovery over the four services as processes: SIGKILL a random one at random moments during ingests and
deletes, restart it, reconcile, then check the stores agree and every acknowledged operation held.

The default run is short; AUDIOSEARCH_CRASH_FULL=1 runs the full form (500 operations, 24 kills).
"""

import os

import pytest

from crash_harness import run_crash_test

FULL = os.environ.get("AUDIOSEARCH_CRASH_FULL", "") not in ("", "0")


@pytest.mark.e2e
@pytest.mark.timeout(1800 if FULL else 240)
def test_acknowledged_operations_survive_random_kills(tmp_path):
    operations, kills = (500, 24) if FULL else (60, 4)
    report = run_crash_test(tmp_path / "data", operations, kills, workers=4, seed=7)
    assert report.violations == []
    assert report.operations >= operations and sum(report.kills.values()) == kills
    assert report.clips_checked == report.ingests_acknowledged - report.deletes_acknowledged
