#!/usr/bin/env bash
# One command for a new user: install, start the four services, ingest a generated library, search, stop.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh all
exec .venv/bin/audiosearch demo "$@"
