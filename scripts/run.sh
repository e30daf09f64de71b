#!/usr/bin/env bash
# Install the app's packages on a fresh machine and start it on http://localhost:8501
#   bash scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -m pip install -q torch==2.13.0 || $PY -m pip install -q torch  # CPU build where provided
$PY -m pip install -q -r requirements.txt
exec $PY -m streamlit run Home.py "$@"
