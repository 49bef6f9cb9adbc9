#!/usr/bin/env bash
# make bench: every benchmark writes JSON lines to build/bench/*.jsonl and prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/bench
for b in tests/bench/*.sh; do [ -x "$b" ] && "$b"; done
