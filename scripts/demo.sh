#!/usr/bin/env bash
# The first-run experience: install the studio extra into ./.venv, then learn a
# personality from (generated) instrument audio and play a MIDI phrase with it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh studio
. .venv/bin/activate
amadeus demo --out demo.wav "$@"
