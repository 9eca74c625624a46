#!/usr/bin/env bash
# Package a one-folder build as the per-machine MSI, sign it when a certificate is given, check it.
#   bash installer/build-msi.sh [DIST_FOLDER] [OUT_DIR]
# DIST_FOLDER defaults to build/dist/StudentMappingTool, OUT_DIR to build/msi. The version comes
# from mapping_tool/__init__.py (the one version number). On Windows use WiX 3 (candle + light on
# PATH); elsewhere wixl (Debian: apt-get install wixl msitools), which CI uses to check the package.
# Signing: SMT_SIGN_CERT (+ SMT_SIGN_PASSWORD, SMT_SIGN_TIMESTAMP_URL), see installer/sign.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIST=$(cd "${1:-$ROOT/build/dist/StudentMappingTool}" && pwd)
mkdir -p "${2:-$ROOT/build/msi}"
OUT=$(cd "${2:-$ROOT/build/msi}" && pwd)
PY=$(command -v python3 || command -v python)
VERSION=$("$PY" -c 'import re,sys; print(re.search(r"__version__ = \"([^\"]+)\"", open(sys.argv[1], encoding="utf-8").read()).group(1))' "$ROOT/mapping_tool/__init__.py")
MSI="$OUT/StudentMappingTool-$VERSION.msi"
mkdir -p "$OUT/docs"
cp "$ROOT/docs/technician.md" "$OUT/docs/technician-guide.txt"
cp "$ROOT/CHANGELOG.md" "$OUT/docs/CHANGELOG.txt"

# every program of the build is signed before it is packaged (nothing to do for a Linux build)
mapfile -t exes < <(find "$DIST" -type f -iname '*.exe' | sort)
bash "$ROOT/installer/sign.sh" "${exes[@]}"

# wixl wants file sources relative to the folder it runs in
cd "$OUT"
"$PY" "$ROOT/installer/make_wxs.py" "$DIST" files.wxs
rm -f "$MSI"
if command -v wixl >/dev/null 2>&1; then
  wixl --arch x64 -D Version="$VERSION" -D DocsDir=docs -o "$MSI" "$ROOT/installer/StudentMappingTool.wxs" files.wxs
elif command -v candle >/dev/null 2>&1 && command -v light >/dev/null 2>&1; then
  candle -nologo -arch x64 -dVersion="$VERSION" -dDocsDir=docs -out obj/ "$ROOT/installer/StudentMappingTool.wxs" files.wxs
  # ICE38/43/57 expect an HKCU key path for Start-menu shortcuts, which suits per-user installs only;
  # this package is per machine (ALLUSERS=1), so its shortcut component keys on HKLM instead.
  light -nologo -sice:ICE38 -sice:ICE43 -sice:ICE57 -out "$MSI" obj/StudentMappingTool.wixobj obj/files.wixobj
else
  echo "build-msi: neither wixl (Linux: apt-get install wixl msitools) nor WiX 3 (candle, light) is installed" >&2
  exit 1
fi
bash "$ROOT/installer/sign.sh" "$MSI"
if command -v msiinfo >/dev/null 2>&1; then
  "$PY" "$ROOT/installer/check_msi.py" "$MSI" "$VERSION"
else
  echo "build-msi: msiinfo (msitools) is not installed, so the package's tables were not checked" >&2
  [ -n "${CI:-}" ] && exit 1
fi
echo "MSI: $MSI ($(du -m "$MSI" | cut -f1) MB)"
