#!/usr/bin/env bash
# Creates .venv (Python 3.11+) and installs audiosearch with the given extra (default: all). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-all}"
python=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    python="$candidate"; break
  fi
done
[ -n "$python" ] || { echo "audiosearch needs Python 3.11 or newer" >&2; exit 1; }
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[$extra]"
# Without their dependency lists: PaddleSpeech's model code (its declared dependencies are never imported here)
# and resemblyzer, which carries the GE2E speaker weights (it declares torch; only its weights file is read).
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps paddlespeech==1.5.0 resemblyzer==0.1.4
# The web console's browser tests (tests/console) drive Debian's chromium with Playwright, which never downloads a
# browser of its own. Only for the dev install, and only where it is missing and apt-get can run (as root).
if [ "$extra" = dev ] && [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
