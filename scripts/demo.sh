#!/usr/bin/env bash
# make demo: the quickstart notebook, executed headless against the installed kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "The fine-tuning demo notebook is not available yet."
