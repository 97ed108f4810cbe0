"""Every validation rule shared by services exists once: in audiosearch/runtime/rules.py, whose reasons no other
module raises (a copy of a rule elsewhere would have to name its reason again, and this test would find it).

The list of rules is read from rules.py itself, so a new rule is covered as soon as it is written.
"""

import ast
import pathlib

import pytest

from audiosearch.runtime import rules
from audiosearch.sdk import errors

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = ("audiosearch", "embedding_service", "search_service", "metadata_service", "gateway")
RULES = pathlib.Path(rules.__file__)


def _reasons(tree: ast.AST) -> set[str]:
    """UPPER_SNAKE string constants: the reasons a module raises (and rule names)."""
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.replace("_", "").isupper()
        and "_" in node.value.strip("_")
        and not node.value.endswith("_")  # enum prefixes such as "METRIC_"
    }


def _rule_reasons() -> set[str]:
    tree = ast.parse(RULES.read_text())
    reasons = _reasons(tree)
    # INVALID_<WHAT> of rules.choice, one per enum it checks.
    return reasons | {f"INVALID_{what}" for what in ("METRIC", "INDEX_TYPE")}


def test_rules_are_enumerated():
    checks = sorted(name for name in vars(rules) if name.startswith(("check_", "valid_", "choice")))
    assert checks == [
        "check_collection_name",
        "check_filter",
        "check_segments",
        "check_speaker_id",
        "check_text_value",
        "check_top_k",
        "check_vector_collection_name",
        "choice",
        "valid_labels",
    ]
    assert {"INVALID_COLLECTION_NAME", "LABEL_TOO_LONG", "INVALID_TOP_K", "INVALID_SEGMENTS"} <= _rule_reasons()
    assert rules.METRICS == ("COSINE", "IP", "L2") and "HNSW" in rules.INDEX_TYPES


def test_a_rebuilds_vectors_have_a_name_no_collection_can_take():
    vectors = rules.rebuild_vectors_name("sounds", 12)
    rules.check_vector_collection_name(vectors)
    assert rules.rebuilt_collection(vectors) == "sounds" and rules.rebuilt_collection("sounds") is None
    with pytest.raises(errors.InvalidArgument):
        rules.check_collection_name(vectors)
    for name in ("_rebuild12_", "_rebuild_sounds", "_rebuildx_sounds", "_rebuild1_1sounds"):
        with pytest.raises(errors.InvalidArgument):
            rules.check_vector_collection_name(name)


def test_no_other_module_raises_a_rules_reason():
    owned = _rule_reasons()
    copies = {}
    for package in SOURCES:
        for path in (ROOT / package).rglob("*.py"):
            if path == RULES or path.name.endswith(("_pb2.py", "_pb2_grpc.py")):
                continue
            found = _reasons(ast.parse(path.read_text())) & owned
            if found:
                copies[str(path.relative_to(ROOT))] = sorted(found)
    assert not copies, f"rules written again outside audiosearch/runtime/rules.py: {copies}"
