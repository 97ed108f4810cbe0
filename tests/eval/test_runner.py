"""The runner's bookkeeping on sets larger than the service's top_k cap, and progress without a terminal."""

import io
import types

import numpy as np

from audiosearch.runtime.rules import MAX_TOP_K as SERVICE_MAX_TOP_K
from audiosearch.tools.evaluation import report, runner
from audiosearch.tools.evaluation.dataset import Item
from audiosearch.tools.evaluation.progress import ProgressLines


class CappedGateway:
    """Only what the test is not about is faked: a gateway whose search returns at most 1000 hits, like the real one."""

    def __init__(self) -> None:
        self.clips: list[int] = []

    def create_collection(self, name, model, window_seconds, hop_seconds):
        self.name = name

    def list_collections(self):
        segments = types.SimpleNamespace(window_seconds=0.0, hop_seconds=0.0)
        return [types.SimpleNamespace(name=self.name, model="logmel", segments=segments)]

    def stats(self):
        return [types.SimpleNamespace(name=self.name, ready_clips=len(self.clips))]

    def ingest(self, content, collection, source="", sound_class=""):
        self.clips.append(len(self.clips) + 1)
        return types.SimpleNamespace(clip=types.SimpleNamespace(id=self.clips[-1]), duplicate=False)

    def search(self, collection, clip_id=None, audio=None, top_k=10):
        ranked = [c for c in self.clips if c != clip_id][: min(top_k, SERVICE_MAX_TOP_K)]
        return types.SimpleNamespace(hits=[types.SimpleNamespace(clip=types.SimpleNamespace(id=c)) for c in ranked])

    def drop_collection(self, name):
        self.clips = []


def items(count: int) -> list[Item]:
    return [Item(f"{i}.wav", str(i % 2), np.zeros(1600, np.float32), 16000, b"") for i in range(count)]


def test_map_says_when_the_rankings_were_cut_at_the_service_cap(capsys):
    small = runner.evaluate(CappedGateway(), items(20), runner.Target(), [])
    assert small["label_retrieval"]["mAP_cutoff"] is None
    large = runner.evaluate(CappedGateway(), items(1100), runner.Target(), [])
    assert large["label_retrieval"]["mAP_cutoff"] == SERVICE_MAX_TOP_K
    report.print_report(large)
    out = capsys.readouterr().out
    assert "mAP@1000" in out and "lower bound" in out


def test_progress_without_a_terminal_prints_a_line_per_interval_and_at_the_end():
    now = [0.0]
    stream = io.StringIO()
    progress = ProgressLines(stream, interval_seconds=10, clock=lambda: now[0])
    for done in range(1, 26):
        progress("ingest", done, 25)
        now[0] += 1
    progress("label retrieval", 1, 3)
    assert stream.getvalue().splitlines() == [
        "eval: ingest 1/25 (4%, 0 s)",
        "eval: ingest 11/25 (44%, 10 s)",
        "eval: ingest 21/25 (84%, 20 s)",
        "eval: ingest 25/25 (100%, 24 s)",
        "eval: label retrieval 1/3 (33%, 0 s)",
    ]
