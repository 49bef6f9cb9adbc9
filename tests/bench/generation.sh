#!/usr/bin/env bash
# Generation benchmark: greedy tokens/s of a fixed small Llama (hidden 256, 4 layers, 8 heads / 4 kv
# heads, vocab 4096, float32, CPU; prompt 32 tokens, 64 new tokens) with and without the KV cache,
# in Tunebook and in plain PyTorch (python3-torch, the same libtorch) in the same run.
# Writes build/bench/generation.jsonl and prints a table; ratio = Tunebook / PyTorch (higher is better).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/bench
out=build/bench/generation.jsonl
export GLOG_minloglevel=2
# Same intra-op thread count for both sides (default 1: decoding this small model is latency-bound,
# and a shared CI machine makes multi-threaded timings noisy). Override with BENCH_THREADS=N.
export OMP_NUM_THREADS=${BENCH_THREADS:-1}
export TUNEBOOK_NUM_THREADS=$OMP_NUM_THREADS
dotnet build tests/Tunebook.Bench -c Release -v quiet -nologo -clp:ErrorsOnly >/dev/null
tmp=$(mktemp)
model=$(mktemp -d)
smol=$(mktemp -d)
trap 'rm -rf "$tmp" "$model" "$smol"' EXIT
# Rows: greedy decoding of the small model with and without the KV cache; 12 questions answered one by
# one and as one batch (what Tune.Compare does per side; Tunebook only: the ratio of the two rows is the
# speed-up); greedy KV-cache decoding of a SmolLM2-135M-shaped model (../shared/bench/lora-cpu-smollm2-135m.json).
shared=${BENCH_SHARED:-../shared/bench}
dotnet tests/Tunebook.Bench/bin/Release/net10.0/Tunebook.Bench.dll generation "$model" "$smol" "$shared/lora-cpu-smollm2-135m.json" >"$tmp"
/usr/bin/python3 tests/bench/generation_reference.py "$model" >>"$tmp"
/usr/bin/python3 tests/bench/generation_reference.py "$smol" --prefix smollm2_135m_ --new 32 --cache-only >>"$tmp"
/usr/bin/python3 - "$tmp" "$out" <<'PY'
import json, sys, datetime
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows:
    by.setdefault(r["metric"], {})[r["impl"]] = r
stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
config = next((r["config"] for r in rows if "config" in r), None)
with open(sys.argv[2], "w") as f:
    print(f"config: {json.dumps(config)}")
    print(f"{'metric':32} {'tunebook':>10} {'pytorch':>10} {'ratio':>7}  unit")
    for metric, impls in by.items():
        t, p = impls.get("tunebook"), impls.get("pytorch")
        ratio = round(t["value"] / p["value"], 3) if t and p and p["value"] else None
        same = bool(t and p and t["tokens_head"] == p["tokens_head"]) if (t and p) else None
        f.write(json.dumps({"bench": "generation", "metric": metric, "unit": "tok/s", "tunebook": t and t["value"],
                            "pytorch": p and p["value"], "ratio": ratio, "same_tokens": same, "config": config, "time": stamp}) + "\n")
        print(f"{metric:32} {t['value'] if t else '-':>10} {p['value'] if p else '-':>10} {ratio if ratio is not None else '-':>7}  tok/s{'  (tokens differ!)' if same is False else ''}")
PY
