#!/usr/bin/env bash
# Chart redraw cost: a loss-curve Figure's SVG, Plotly JSON and whole MIME bundle at growing point counts, against
# Python's json.dumps of the same figure data (the serialisation floor of any Python plotting library) in the same run.
# Writes build/bench/charts.jsonl and prints a table. SIZES: point counts of the train-loss series.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZES="${SIZES:-1000 5000 20000 100000}"
out=build/bench/charts.jsonl
mkdir -p build/bench

ours="$(dotnet run -c Release tests/bench/charts_bench.cs -- $SIZES | grep '^{')"
theirs="$(/usr/bin/python3 tests/bench/charts_reference.py $SIZES)"

/usr/bin/python3 - "$ours" "$theirs" "$out" <<'PY'
import json, sys
ours = [json.loads(l) for l in sys.argv[1].splitlines()]
theirs = {r["points"]: r for r in map(json.loads, sys.argv[2].splitlines())}
print("%8s %9s %9s %11s %13s %9s %9s" % ("points", "svg ms", "json ms", "bundle ms", "py json ms", "ratio", "svg KiB"))
with open(sys.argv[3], "w") as f:
    for r in ours:
        ref = theirs[r["points"]]["json_s"]
        row = {"bench": "charts", "points": r["points"], "svg_s": r["svg_s"], "json_s": r["json_s"], "bundle_s": r["bundle_s"],
               "reference_json_s": ref, "bundle_vs_reference": r["bundle_s"] / ref,
               "svg_bytes": r["svg_bytes"], "json_bytes": r["json_bytes"]}
        f.write(json.dumps(row) + "\n")
        print("%8d %9.2f %9.2f %11.2f %13.2f %8.2fx %9.1f" % (r["points"], r["svg_s"] * 1e3, r["json_s"] * 1e3, r["bundle_s"] * 1e3,
              ref * 1e3, row["bundle_vs_reference"], r["svg_bytes"] / 1024))
print("ratio: Tunebook's whole bundle (SVG + Plotly JSON) time / Python json.dumps of the data alone")
PY
