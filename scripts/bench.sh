#!/usr/bin/env bash
# make bench: every benchmark writes JSON lines to build/bench/*.jsonl and prints a table.
# BENCH_ONLY="training generation" runs only those tests/bench/*.sh (default: all); each script has its own
# BENCH_* settings (for example BENCH_TRAINING_ROWS in tests/bench/training.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/bench
for b in tests/bench/*.sh; do
  name=$(basename "$b" .sh)
  if [ -n "${BENCH_ONLY:-}" ] && [[ " $BENCH_ONLY " != *" $name "* ]]; then continue; fi
  if [ -x "$b" ]; then "$b"; fi
done
