#!/usr/bin/env bash
# Build and test what ships: the PyInstaller one-folder app, its self-test (offscreen), a smoke run
# of real commands against the frozen program, then the MSI (wixl) and its table checks (msiinfo).
# Called by .ci/run after the tests. The frozen build is cached outside the clone, keyed by a hash
# of everything that goes into it, so a run with unchanged inputs skips PyInstaller.
#   bash scripts/build-frozen.sh            (figures go to build/frozen-report.txt)
# Any failure, including a missing tool, stops with a message and a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
t0=$(date +%s)
say() { echo "build-frozen: $*"; }

bash scripts/setup.sh

# -- tools: PyInstaller (pinned in constraints.txt) and msitools/wixl for the MSI -------------
.venv/bin/python -m pip install --quiet -c constraints.txt pyinstaller pyinstaller-hooks-contrib
if ! command -v wixl >/dev/null 2>&1 || ! command -v msiinfo >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "installing wixl and msitools (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wixl msitools >/dev/null
  fi
  command -v wixl >/dev/null 2>&1 && command -v msiinfo >/dev/null 2>&1 || {
    echo "build-frozen: wixl and msiinfo are needed to build and check the MSI: apt-get install wixl msitools" >&2
    exit 1
  }
fi

# -- the frozen build, cached by the hash of its inputs ---------------------------------------
inputs_hash() {
  {
    find mapping_tool importers risk_factors interventions referral_forms resources docs/guides -type f \
      ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum
    sha256sum installer/mapping_tool.spec pyproject.toml constraints.txt
    .venv/bin/python -VV
    .venv/bin/python -m pip freeze --all 2>/dev/null | grep -v '^-e ' | grep -iv '^student-mapping-tool'
    uname -m
  } | sha256sum | cut -c1-20
}
KEY=$(inputs_hash)
CACHE=${SMT_FROZEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/student-mapping-tool/frozen}
APPDIR="$CACHE/$KEY/StudentMappingTool"
mkdir -p "$CACHE"
if [ -x "$APPDIR/mapping-tool" ] && [ -f "$CACHE/$KEY/complete" ]; then
  say "frozen build $KEY is cached (inputs unchanged): $APPDIR"
  built="cached"
else
  say "building the one-folder app with PyInstaller $(.venv/bin/python -m PyInstaller --version) (inputs $KEY)"
  b0=$(date +%s)
  rm -rf "$CACHE/$KEY" "$CACHE/$KEY.tmp" build/work
  .venv/bin/python -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$CACHE/$KEY.tmp" --workpath build/work installer/mapping_tool.spec
  mv "$CACHE/$KEY.tmp" "$CACHE/$KEY"
  touch "$CACHE/$KEY/complete"
  built="built in $(( $(date +%s) - b0 )) s"
  # keep the two newest builds only (each is ~370 MB)
  ls -1dt "$CACHE"/*/ 2>/dev/null | tail -n +3 | xargs -r rm -rf
fi
APP="$APPDIR/mapping-tool"
SIZE_MB=$(du -sm "$APPDIR" | cut -f1)
FILES=$(find "$APPDIR" -type f | wc -l)

# -- the frozen program, tested as shipped ----------------------------------------------------
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export QT_QPA_PLATFORM=offscreen
export MAPPING_TOOL_LOG_DIR="$WORK/logs" MAPPING_TOOL_SETTINGS_DIR="$WORK/settings"
export MAPPING_TOOL_MACHINE_DIR="$WORK/machine" MAPPING_TOOL_USER_DATA_DIR="$WORK/user"
export MAPPING_TOOL_STORE="$WORK/store"
unset MAPPING_TOOL_PASSWORD MAPPING_TOOL_NEW_PASSWORD MAPPING_TOOL_RECOVERY_PASSPHRASE

s0=$(date +%s.%N)
VERSION_OUT=$("$APP" --version)
START_S=$(awk "BEGIN{printf \"%.2f\", $(date +%s.%N) - $s0}")
[ "$VERSION_OUT" = "mapping-tool $(.venv/bin/python -c 'import mapping_tool; print(mapping_tool.__version__)')" ] || {
  echo "build-frozen: the frozen program says '$VERSION_OUT', not the package's version" >&2; exit 1; }

s0=$(date +%s.%N)
"$APP" self-test 2>&1 | grep -v propagateSizeHints | tee "$WORK/selftest.txt"
SELFTEST_S=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $s0}")
grep -q '^SELFTEST OK' "$WORK/selftest.txt" || { echo "build-frozen: the frozen self-test failed" >&2; exit 1; }
# Help's user guides travel with the program (docs/guides beside the package)
ls "$APPDIR"/_internal/docs/guides/custodian.md >/dev/null 2>&1 || ls "$APPDIR"/docs/guides/custodian.md >/dev/null 2>&1 || {
  echo "build-frozen: the user guides (docs/guides) are missing from the frozen build" >&2; exit 1; }

say "smoke run against the frozen program"
export PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring  # never the build machine's own keyring
PW=tangerine-orbit-lantern-57
MAPPING_TOOL_PASSWORD=$PW MAPPING_TOOL_RECOVERY_PASSPHRASE="velvet harbour quietly juggles seven comets" \
  "$APP" init --school-number 8123 --school-name "Smoke Test College" --principal "Pat Principal" --custodian custodian
"$APP" demo-data --students 60 --years 1 --out "$WORK/eduhub" >/dev/null
MAPPING_TOOL_PASSWORD=$PW "$APP" --user custodian import --cases21 "$WORK/eduhub" | grep -v '%'
MAPPING_TOOL_PASSWORD=$PW "$APP" --user custodian students --out "$WORK/students.csv"
rows=$(($(wc -l < "$WORK/students.csv") - 1))
[ "$rows" -ge 60 ] || { echo "build-frozen: the students export has $rows rows" >&2; exit 1; }
MAPPING_TOOL_PASSWORD=$PW "$APP" --user custodian audit verify | tee "$WORK/verify.txt"
grep -q '^intact' "$WORK/verify.txt" || { echo "build-frozen: audit verify did not say intact" >&2; exit 1; }
if MAPPING_TOOL_PASSWORD=$PW "$APP" --store //server/share/store --user custodian audit verify 2>"$WORK/err.txt"; then
  echo "build-frozen: a store on a network share was not refused" >&2; exit 1
fi
grep -q "network share" "$WORK/err.txt" || { cat "$WORK/err.txt" >&2; exit 1; }
"$APP" store where
# the migrations travel in the frozen build: a store made by release 0.1.0 upgrades and verifies
cp -r tests/fixtures/release-0.1.0/store "$WORK/release-0.1.0"
MAPPING_TOOL_PASSWORD=$PW "$APP" --store "$WORK/release-0.1.0" --user custodian audit verify | tee "$WORK/verify-old.txt"
grep -q '^intact' "$WORK/verify-old.txt" && ls "$WORK/release-0.1.0/backups/"pre-upgrade-0004-*.smtbackup >/dev/null || {
  echo "build-frozen: the frozen program did not upgrade the 0.1.0 store" >&2; exit 1; }

# -- the MSI ----------------------------------------------------------------------------------
m0=$(date +%s)
bash installer/build-msi.sh "$APPDIR" build/msi
MSI_S=$(( $(date +%s) - m0 ))

mkdir -p build
cat > build/frozen-report.txt <<REPORT
frozen build: $KEY ($built), $SIZE_MB MB in $FILES files
frozen start (mapping-tool --version): ${START_S} s
frozen self-test (store, main window, PDF, keyring): ${SELFTEST_S} s
MSI build and check: ${MSI_S} s, $(du -m build/msi/*.msi | cut -f1) MB
whole script: $(( $(date +%s) - t0 )) s
REPORT
cat build/frozen-report.txt
