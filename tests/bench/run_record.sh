#!/usr/bin/env bash
# What recording a run costs: a metrics.jsonl line per step, the SHA-256 of the weights once per run.
# Writes build/bench/run_record.jsonl. WEIGHTS: a safetensors file to hash (default: the starter model's).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/bench
dotnet run -c Release tests/bench/run_record_bench.cs -- "${WEIGHTS:-datasets/starter/model.safetensors}" | grep '^{' | tee build/bench/run_record.jsonl
