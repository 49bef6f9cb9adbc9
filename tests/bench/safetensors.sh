#!/usr/bin/env bash
# Safetensors throughput: Tunebook vs python/torch doing the same work on the same machine, same run.
# Writes build/bench/safetensors.jsonl and prints a table. Size: TENSORS × ELEMENTS bf16 values.
set -euo pipefail
cd "$(dirname "$0")/../.."
TENSORS="${TENSORS:-64}"
ELEMENTS="${ELEMENTS:-1048576}"
out=build/bench/safetensors.jsonl
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p build/bench

ours="$(dotnet run -c Release tests/bench/safetensors_bench.cs -- "$work" "$TENSORS" "$ELEMENTS" | tail -1)"
theirs="$(/usr/bin/python3 tests/bench/safetensors_bench.py "$work" "$TENSORS" "$ELEMENTS" | tail -1)"

/usr/bin/python3 - "$ours" "$theirs" "$out" <<'PY'
import json, sys
ours, theirs, out = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
mb = ours["bytes"] / 1e6
print("%-12s %12s %14s %8s" % ("operation", "tunebook MB/s", "python+torch MB/s", "speedup"))
with open(out, "w") as f:
    for op in ("write", "read_bytes", "load"):  # read_bytes: open, parse the header, touch every page
        row = {"bench": "safetensors", "op": op, "megabytes": round(mb, 1),
               "tunebook_s": ours[op], "reference_s": theirs[op], "speedup": theirs[op] / ours[op]}
        f.write(json.dumps(row) + "\n")
        print("%-12s %12.0f %14.0f %8.2fx" % (op, mb / ours[op], mb / theirs[op], row["speedup"]))
PY
