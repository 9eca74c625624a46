#!/usr/bin/env bash
# Set everything up and open the app on a throwaway demo school (accounts printed below).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$(uname)" = "Linux" ] && [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  if command -v xvfb-run >/dev/null 2>&1; then
    echo "No display found: starting the app on a virtual screen (xvfb-run)."
    exec xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/mapping-tool demo "$@"
  fi
  echo "No display found. Run this on a desktop, or install xvfb to run it on a virtual screen." >&2
  exit 1
fi
exec .venv/bin/mapping-tool demo "$@"
