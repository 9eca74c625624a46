#!/usr/bin/env bash
# Set everything up and run the whole test suite headless.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=offscreen
# stderr joins stdout: a crash's traceback (pytest's faulthandler) lands next to the test that caused it
exec .venv/bin/python -m pytest "$@" 2>&1
