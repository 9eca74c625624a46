#!/usr/bin/env bash
# Authenticode-sign files (SHA-256, RFC 3161 timestamp) when a certificate is supplied:
#   SMT_SIGN_CERT=cert.pfx [SMT_SIGN_PASSWORD=...] [SMT_SIGN_TIMESTAMP_URL=...] bash installer/sign.sh FILE...
# Without SMT_SIGN_CERT it signs nothing and says so (exit 0). signtool.exe on Windows (Windows
# SDK), osslsigncode elsewhere. A signing failure stops the build.
set -euo pipefail
if [ -z "${SMT_SIGN_CERT:-}" ]; then
  echo "sign: no certificate (SMT_SIGN_CERT not set): $# file(s) left unsigned"
  exit 0
fi
[ -f "$SMT_SIGN_CERT" ] || { echo "sign: the certificate file $SMT_SIGN_CERT does not exist" >&2; exit 1; }
TS_URL=${SMT_SIGN_TIMESTAMP_URL:-http://timestamp.digicert.com}
DESC="Student Mapping Tool"
signtool=""
for candidate in signtool.exe signtool; do
  if command -v "$candidate" >/dev/null 2>&1; then signtool=$candidate; break; fi
done
for f in "$@"; do
  if [ -n "$signtool" ]; then
    "$signtool" sign /fd SHA256 /f "$SMT_SIGN_CERT" ${SMT_SIGN_PASSWORD:+/p "$SMT_SIGN_PASSWORD"} \
      /tr "$TS_URL" /td SHA256 /d "$DESC" "$f"
    "$signtool" verify /pa "$f" >/dev/null
  elif command -v osslsigncode >/dev/null 2>&1; then
    osslsigncode sign -pkcs12 "$SMT_SIGN_CERT" ${SMT_SIGN_PASSWORD:+-pass "$SMT_SIGN_PASSWORD"} \
      -h sha256 -ts "$TS_URL" -n "$DESC" -in "$f" -out "$f.signed"
    mv -f "$f.signed" "$f"
  else
    echo "sign: a certificate was given but neither signtool nor osslsigncode is installed" >&2
    exit 1
  fi
  echo "sign: signed and timestamped $f"
done
