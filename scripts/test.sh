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
if ! command -v chromium >/dev/null 2>&1 || ! { command -v haproxy || [ -x /usr/sbin/haproxy ]; } >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q && $SUDO apt-get install -y -q chromium fonts-noto-color-emoji haproxy
fi
$PY -m pytest -q "$@"
