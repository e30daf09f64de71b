#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine, then run them all.
#   bash scripts/test.sh            (the README's test command; .ci/run calls it)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# torch first, pinned, so pip takes the local CPU build instead of a multi-GB CUDA one.
$PY -m pip install -q torch==2.13.0
# requirements.txt names PyTorch's CPU index for Community Cloud; where that index is out of reach
# (as on our build machines) pip would retry it for every package, so install without that line.
REQ=$(mktemp); grep -v '^--extra-index-url' requirements.txt > "$REQ"
$PY -m pip install -q -r "$REQ" -r requirements-test.txt
# Debian's Chromium for the real-browser tests (Playwright drives it; it cannot download its own),
# and HAProxy for the lecture-hall proxy tests (tests/framework/test_proxy.py, scripts/serve.py).
# PostgreSQL for the class store's tests (tests/classroom/: each run initdb's a throwaway cluster in
# a temporary folder as the postgres user, on a free loopback port, and deletes it afterwards).
if ! command -v chromium >/dev/null 2>&1 || ! { command -v haproxy || [ -x /usr/sbin/haproxy ]; } >/dev/null 2>&1 \
   || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium fonts-noto-color-emoji haproxy postgresql
fi
# Start one throwaway server for the whole run (the tests read DASH_TEST_PG_URL; without it each
# test session starts its own). Stopped and deleted when this script exits.
if [ -z "${DASH_TEST_PG_URL:-}" ]; then
  PGINFO=$(mktemp)
  $PY tests/classroom/pg.py start > "$PGINFO"
  export DASH_TEST_PG_URL=$(sed -n 1p "$PGINFO")
  trap '$PY tests/classroom/pg.py stop "$(sed -n 2p "$PGINFO")"; rm -f "$PGINFO"' EXIT
fi
$PY -m pytest -q "$@"
