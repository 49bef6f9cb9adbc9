#!/usr/bin/env bash
# Engine benchmark: Tunebook.Torch vs PyTorch (python3-torch, the same libtorch) in the same run.
# Writes build/bench/engine.jsonl and prints a table with ratios (Tunebook / PyTorch; for times,
# lower is better; for GFLOP/s, higher is better). The two sides run alternately ROUNDS times
# (default 2) and each keeps its best round, so a burst of load on a shared machine does not land
# on one side only. PyTorch runs twice: as it ships, and with GOMP_SPINCOUNT=10000 (the threading
# setting Tunebook applies by default), so the table separates that setting from the binding itself.
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
  GOMP_SPINCOUNT=10000 BENCH_IMPL=pytorch_same_env /usr/bin/python3 tests/bench/engine_reference.py >>"$tmp"
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
    print(f"{'metric':26} {'tunebook':>10} {'pytorch':>10} {'ratio':>7} {'pt same env':>11} {'ratio':>7}  unit")
    for metric, impls in by.items():
        t, p, q = impls.get("tunebook"), impls.get("pytorch"), impls.get("pytorch_same_env")
        ratio = lambda other: round(t["value"] / other["value"], 3) if t and other and other["value"] else None
        unit = (t or p or q)["unit"]
        f.write(json.dumps({"bench": "engine", "metric": metric, "unit": unit, "tunebook": t and t["value"],
                            "pytorch": p and p["value"], "ratio": ratio(p),
                            "pytorch_same_env": q and q["value"], "ratio_same_env": ratio(q), "time": stamp}) + "\n")
        cell = lambda r, k="value": "-" if r is None else (r[k] if isinstance(r, dict) else r)
        print(f"{metric:26} {cell(t):>10} {cell(p):>10} {cell(ratio(p)):>7} {cell(q):>11} {cell(ratio(q)):>7}  {unit}")
PY
