#!/usr/bin/env bash
# Create ./.venv and install Amadeus with one extra: agent | studio | test.
#   bash scripts/install.sh studio
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-studio}"
python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -e ".[${extra}]"
