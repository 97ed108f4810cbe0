"""The committed stubs are exactly what scripts/gen_protos.py generates from protos/ with the pinned grpcio-tools."""

import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
STUB_PATTERNS = ("*_pb2.py", "*_pb2.pyi", "*_pb2_grpc.py")
FIX = "run `python scripts/gen_protos.py` and commit the regenerated stubs"


def stubs_under(root: pathlib.Path) -> dict[str, bytes]:
    package = root / "audiosearch"
    return {
        str(path.relative_to(root)): path.read_bytes() for pattern in STUB_PATTERNS for path in package.rglob(pattern)
    }


def test_committed_stubs_match_a_fresh_generation(tmp_path):
    generated = subprocess.run(
        [sys.executable, "scripts/gen_protos.py", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert generated.returncode == 0, f"gen_protos.py failed:\n{generated.stderr}"
    fresh, committed = stubs_under(tmp_path), stubs_under(REPO)
    assert fresh, "gen_protos.py generated no stubs"

    missing = sorted(set(fresh) - set(committed))
    stale = sorted(set(committed) - set(fresh))
    drifted = sorted(name for name in set(fresh) & set(committed) if fresh[name] != committed[name])
    assert not missing, f"stubs missing from the repository: {missing}; {FIX}"
    assert not stale, f"committed stubs with no proto behind them: {stale}; delete them, then {FIX}"
    assert not drifted, f"committed stubs differ from protos/: {drifted}; {FIX}"


def test_every_proto_has_its_stubs():
    protos = sorted((REPO / "protos").rglob("*.proto"))
    assert protos
    for proto in protos:
        stem = proto.relative_to(REPO / "protos").with_suffix("")
        for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"):
            assert (REPO / f"{stem}{suffix}").is_file(), f"{stem}{suffix} is missing; {FIX}"
