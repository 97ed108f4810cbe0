#!/usr/bin/env bash
# One command: install everything the tests need, make sure MariaDB is up, run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
bash scripts/ensure_mariadb.sh
# buf (protos lint, STANDARD rules) from the npm registry into .tools/; the lint test skips without npm.
if command -v npm >/dev/null && [ ! -x .tools/node_modules/.bin/buf ]; then
  npm install --prefix .tools --no-save --no-audit --no-fund --silent @bufbuild/buf@1.75.0 || echo "could not install buf" >&2
fi
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
