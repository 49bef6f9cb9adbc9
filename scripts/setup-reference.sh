#!/usr/bin/env bash
# Installs the npm reference implementations the parity tests compare against (tokenizers, Jinja,
# llama.cpp through node-llama-cpp),
# pinned by tests/reference/package-lock.json. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../tests/reference"
[ -f package.json ] || exit 0
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules
fi
