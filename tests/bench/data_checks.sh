#!/usr/bin/env bash
# Data checks: the whole DataChecks pass and the near-duplicate search alone on N synthetic examples (5% near-copies).
# Writes build/bench/data_checks.jsonl and prints a table. SIZES: example counts.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZES="${SIZES:-10000 100000}"
out=build/bench/data_checks.jsonl
mkdir -p build/bench

ours="$(dotnet run -c Release tests/bench/data_checks_bench.cs -- $SIZES | grep '^{')"

/usr/bin/python3 - "$ours" "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
print("%9s %10s %14s %12s %12s %9s %10s" % ("examples", "all s", "near-dup s", "signing s", "cluster s", "clusters", "redundant"))
with open(sys.argv[2], "w") as f:
    for r in rows:
        f.write(json.dumps({"bench": "data_checks", **r}) + "\n")
        print("%9d %10.2f %14.2f %12.2f %12.2f %9d %10d" % (r["examples"], r["all_checks_s"], r["near_duplicates_s"], r["signatures_s"],
              r["clustering_s"], r["clusters"], r["redundant"]))
print("cores: %d" % rows[0]["cores"])
PY
