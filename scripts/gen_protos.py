"""Generate the Python stubs from protos/ into the audiosearch package (run with the pinned grpcio-tools).

Usage: python scripts/gen_protos.py [--out DIR]. The test suite regenerates into a temporary folder and fails
when the committed stubs differ.
"""

import argparse
import pathlib
import sys

import grpc_tools
from grpc_tools import protoc

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"


def proto_files() -> list[pathlib.Path]:
    return sorted(PROTO_ROOT.rglob("*.proto"))


def generate(out: pathlib.Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    well_known = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *(str(p.relative_to(PROTO_ROOT)) for p in proto_files()),
    ]
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    # Package markers, so that `from audiosearch.search.v1 import search_service_pb2` works once installed.
    package = out / "audiosearch"
    for folder in {p.parent for p in package.rglob("*_pb2.py")}:
        while folder != package:
            (folder / "__init__.py").touch()
            folder = folder.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=pathlib.Path, default=ROOT)
    generate(parser.parse_args().out)


if __name__ == "__main__":
    main()
