#!/usr/bin/env bash
# Build the one-folder app, test it as shipped, and only then package it (the same script CI runs).
set -euo pipefail
exec bash "$(dirname "$0")/../scripts/build-frozen.sh" "$@"
