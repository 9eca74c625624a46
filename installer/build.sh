#!/usr/bin/env bash
# Build the one-folder app with PyInstaller, smoke-test the frozen build, and only then package.
# On Windows run the same steps in Git Bash, then build the MSI (see installer/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pip install --quiet -c constraints.txt "pyinstaller>=6.10"
.venv/bin/pyinstaller --noconfirm --clean --distpath build/dist --workpath build/work installer/mapping_tool.spec
QT_QPA_PLATFORM=offscreen build/dist/StudentMappingTool/mapping-tool self-test
echo "Frozen build passed its self-test: build/dist/StudentMappingTool"
