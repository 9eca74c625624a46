#!/usr/bin/env bash
# Set up (or refresh) the project's virtual environment in .venv with pinned versions.
# Used by run-demo.sh and run-tests.sh; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local candidates=("${PYTHON:-}" python3.12 python3.13 python3)
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=("$(pyenv root)/versions/3.12.1/bin/python3" "$(pyenv root)/versions/3.13.0/bin/python3")
  fi
  for py in "${candidates[@]}"; do
    [ -n "$py" ] || continue
    command -v "$py" >/dev/null 2>&1 || [ -x "$py" ] || continue
    if "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  return 1
}

PY=$(find_python) || {
  echo "The Student Mapping Tool needs Python 3.12 or newer (PySide6 on 3.11 aborts in table models)." >&2
  echo "Install Python 3.12 (or run 'pyenv install 3.12.1') and try again." >&2
  exit 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then
  echo "Creating .venv with $("$PY" --version)"
  rm -rf .venv
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -c constraints.txt -e ".[test]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# Qt needs system libraries: some even offscreen, more for a real window (the xcb platform).
# Check what the window really loads (ldd of PySide6's libqxcb.so) and install what is missing
# on Debian/Ubuntu; Qt's own message names the wrong library (xcb-cursor0) when another is absent.
QT_LIBS="libgl1 libegl1 libxkbcommon0 libfontconfig1 libglib2.0-0 libdbus-1-3 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0"
missing_qt_packages() {
  .venv/bin/python -c '
from mapping_tool.qt_check import debian_package, missing_libraries
print(" ".join(sorted({debian_package(m) for m in missing_libraries()})))'
}
offscreen_ok() {
  QT_QPA_PLATFORM=offscreen .venv/bin/python -c 'from PySide6.QtWidgets import QApplication; QApplication([])' >/dev/null 2>&1
}
install_packages() {
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing the system packages Qt needs: $*"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "Installing the system packages Qt needs: $*"
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    return 1
  fi
}
if [ "$(uname)" = "Linux" ]; then
  need=$(missing_qt_packages)
  if ! offscreen_ok; then
    need="$need $QT_LIBS"
  fi
  if [ -n "${need// /}" ]; then
    # shellcheck disable=SC2086  # one word per package
    install_packages $need || true
    need=$(missing_qt_packages)
    if [ -n "$need" ] || ! offscreen_ok; then
      echo "Qt cannot open a window: install these system packages and try again:" >&2
      echo "  sudo apt-get install ${need:-$QT_LIBS}" >&2
      exit 1
    fi
  fi
fi
