#!/usr/bin/env bash
# One command: install everything the tests need, make sure MariaDB is up, run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
bash scripts/ensure_mariadb.sh
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
