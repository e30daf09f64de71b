#!/usr/bin/env bash
# Install the app's packages on a fresh machine and start it on http://localhost:8501
#   bash scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# torch first: the local CPU build where the machine has one, else the CPU build from PyTorch's index
# (a bare `pip install torch` on Linux would pull the multi-GB CUDA build).
$PY -m pip install -q torch==2.13.0 || $PY -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu
# requirements.txt names PyTorch's CPU index for Community Cloud; where that index is out of reach
# (as on our build machines) pip would retry it for every package, so install without that line.
REQ=$(mktemp); grep -v '^--extra-index-url' requirements.txt > "$REQ"
$PY -m pip install -q -r "$REQ"
exec $PY -m streamlit run Home.py "$@"
