#!/usr/bin/env bash
# Engine benchmark: Tunebook.Torch vs PyTorch (python3-torch, the same libtorch) in the same run.
# Writes build/bench/engine.jsonl and prints a table with ratios (Tunebook / PyTorch; for times,
# lower is better; for GFLOP/s, higher is better). The two sides run alternately ROUNDS times
# (default 2) and each keeps its best round, so a burst of load on a shared machine does not land
# on one side only.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/bench
out=build/bench/engine.jsonl
export GLOG_minloglevel=2
dotnet build tests/Tunebook.Bench -c Release -v quiet -nologo -clp:ErrorsOnly >/dev/null
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for _ in $(seq "${ROUNDS:-2}"); do
  dotnet tests/Tunebook.Bench/bin/Release/net10.0/Tunebook.Bench.dll engine >>"$tmp"
  /usr/bin/python3 tests/bench/engine_reference.py >>"$tmp"
done
/usr/bin/python3 - "$tmp" "$out" <<'PY'
import json, sys, datetime
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows:
    slot = by.setdefault(r["metric"], {})
    best = slot.get(r["impl"])
    higher_is_better = r["unit"] in ("GFLOP/s", "count")
    if best is None or (r["value"] > best["value"] if higher_is_better else r["value"] < best["value"]):
        slot[r["impl"]] = r
stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
with open(sys.argv[2], "w") as f:
    print(f"{'metric':28} {'tunebook':>12} {'pytorch':>12} {'ratio':>8}  unit")
    for metric, impls in by.items():
        t, p = impls.get("tunebook"), impls.get("pytorch")
        ratio = round(t["value"] / p["value"], 3) if t and p and p["value"] else None
        unit = (t or p)["unit"]
        f.write(json.dumps({"bench": "engine", "metric": metric, "unit": unit, "tunebook": t and t["value"],
                            "pytorch": p and p["value"], "ratio": ratio, "time": stamp}) + "\n")
        print(f"{metric:28} {t['value'] if t else '-':>12} {p['value'] if p else '-':>12} {ratio if ratio is not None else '-':>8}  {unit}")
PY
