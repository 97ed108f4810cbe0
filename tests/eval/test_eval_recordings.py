"""`audiosearch eval --task recordings` end to end, on generated recordings, run as a user would run it."""

import json
import subprocess
import sys

import pytest

from audiosearch.client import AudioSearchClient
from audiosearch.tools import synth
from audiosearch.tools.launcher import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    stored, others = tmp_path_factory.mktemp("stored"), tmp_path_factory.mktemp("others")
    for seed in range(4):
        synth.write_clip(stored / f"rec-{seed}.flac", synth.recording(seed, 9), 16000)
        synth.write_clip(others / f"other-{seed}.flac", synth.recording(100 + seed, 9), 16000)
    return stored, others


def test_recordings_eval_places_snippets_and_tells_copies_from_negatives(folders, tmp_path):
    stored, others = folders
    chart = tmp_path / "rec.png"
    with Stack(tmp_path / "stack", ports={}) as stack:
        command = [sys.executable, "-m", "audiosearch.tools.cli", "--json", "eval", str(stored), "--task", "recordings"]
        command += ["--negatives", str(others), "--queries", "8", "--address", stack.gateway_address]
        command += ["--perturb", "noise:20+mp3:32+speed:1.01", "--perturb", "offset:0.5", "--chart", str(chart)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
        with AudioSearchClient(stack.gateway_address) as client:
            assert not list(client.list_collections())  # the temporary collection is gone
    report = json.loads(done.stdout)
    assert report["collection"] == {"model": "fingerprint", "window_seconds": 3.0, "hop_seconds": 0.25}
    assert report["dataset"]["positive_queries"] == report["dataset"]["negative_queries"] == 8
    for name in ("noise:20+mp3:32+speed:1.01", "offset:0.5"):
        row = report["perturbations"][name]
        assert row["hit@1"] == 1.0 and row["tpr_at_fpr"] == 1.0 and row["fpr_decision"] == 0.0, row
        # Speed, codec delay and the prepended silence are accounted for: the offset is found within 0.1 s.
        assert row["offset_error_s"]["p95"] < 0.1
    names = sorted(path.rsplit("/", 1)[-1] for path in report["charts"])
    assert names == ["rec-noise_20_mp3_32_speed_1.01.png", "rec-offset_0.5.png"]
    assert all(open(path, "rb").read(4) == b"\x89PNG" for path in report["charts"])
