#!/usr/bin/env bash
# Set everything up and open the app on a throwaway demo school (accounts printed below).
# Works on a bare Debian machine: installs the system libraries Qt needs (setup.sh) and, when
# there is no display, xvfb for a virtual screen. Nothing is left behind when it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$(uname)" = "Linux" ] && [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  if ! command -v xvfb-run >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then
      echo "No display found: installing xvfb for a virtual screen."
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends xvfb xauth >/dev/null
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      echo "No display found: installing xvfb for a virtual screen."
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends xvfb xauth >/dev/null
    fi
  fi
  if command -v xvfb-run >/dev/null 2>&1; then
    echo "No display found: starting the app on a virtual screen (xvfb-run)."
    exec xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/mapping-tool demo "$@"
  fi
  echo "No display found. Run this on a desktop, or install xvfb ('sudo apt-get install xvfb') to run it on a virtual screen." >&2
  exit 1
fi
exec .venv/bin/mapping-tool demo "$@"
