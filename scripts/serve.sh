#!/usr/bin/env bash
# A lecture hall on one address: install the app's packages (as scripts/run.sh does), then run
# N Streamlit workers behind HAProxy (scripts/serve.py; it installs Debian's haproxy if missing).
#   bash scripts/serve.sh                    # one worker per core on http://0.0.0.0:8501
#   bash scripts/serve.sh --workers 8 --port 8080
#   bash scripts/serve.sh --help
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -m pip install -q torch==2.13.0 || $PY -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu
REQ=$(mktemp); grep -v '^--extra-index-url' requirements.txt > "$REQ"
$PY -m pip install -q -r "$REQ"
rm -f "$REQ"
exec $PY scripts/serve.py "$@"
