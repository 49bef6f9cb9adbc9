#!/usr/bin/env bash
# Fine-tuning throughput: LoRA, QLoRA and full fine-tuning with Tunebook's Trainer against the same loop in
# PyTorch (training_reference.py) -- as PyTorch ships and with GOMP_SPINCOUNT=10000 (Tunebook's default) -- on the fixed config shared/bench/lora-cpu-32m.json, in the same run.
# Each mode and side runs in its own process (peak RSS is per process). Writes build/bench/training.jsonl
# and prints a table; ratio = tunebook tokens/s ÷ pytorch tokens/s (> 1: Tunebook is faster).
# MODES="lora qlora full" by default; DEVICE=cuda to run the C# side on a GPU (noted in the JSON).
set -euo pipefail
cd "$(dirname "$0")/../.."
spec="$(cd .. && pwd)/shared/bench/lora-cpu-32m.json"
[ -f "$spec" ] || { echo "training bench: $spec not found (the fixed benchmark config lives in ../shared/bench)" >&2; exit 1; }
MODES="${MODES:-lora qlora full}"
DEVICE="${DEVICE:-cpu}"
out=build/bench/training.jsonl
mkdir -p build/bench
: > "$out.tmp"
cuda="$(/usr/bin/python3 -c 'import torch; print(int(torch.cuda.is_available()))')"
dotnet build -c Release -v quiet -nologo tests/bench/training_bench.cs >/dev/null 2>&1 || true
# Each side runs ROUNDS times (default 2), alternating, and keeps its fastest round, so a burst of load on
# a shared machine does not land on one side only.
for mode in $MODES; do
  ours_all=""; theirs_all=""; same_all=""
  for _ in $(seq "${ROUNDS:-2}"); do
    ours_all+="$(dotnet run -c Release tests/bench/training_bench.cs -- "$spec" "$mode" "$DEVICE" | tail -1)"$'\n'
    theirs_all+="$(/usr/bin/python3 tests/bench/training_reference.py "$spec" "$mode" | tail -1)"$'\n'
    same_all+="$(GOMP_SPINCOUNT=10000 /usr/bin/python3 tests/bench/training_reference.py "$spec" "$mode" | tail -1)"$'\n'
  done
  pick='import json,sys; print(json.dumps(max((json.loads(l) for l in sys.stdin if l.strip()), key=lambda r: r["tokens_per_s"])))'
  ours="$(printf '%s' "$ours_all" | /usr/bin/python3 -c "$pick")"
  theirs="$(printf '%s' "$theirs_all" | /usr/bin/python3 -c "$pick")"
  same="$(printf '%s' "$same_all" | /usr/bin/python3 -c "$pick")"
  /usr/bin/python3 - "$ours" "$theirs" "$cuda" "$DEVICE" "$same" >> "$out.tmp" <<'PY'
import json, sys
ours, theirs, same = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[5])
row = {"bench": "training", "config": "lora-cpu-32m", "mode": ours["mode"], "device": sys.argv[4],
       "tunebook": ours, "pytorch": theirs, "pytorch_same_env": same,
       "ratio_tokens_per_s": ours["tokens_per_s"] / theirs["tokens_per_s"],
       "ratio_tokens_per_s_same_env": ours["tokens_per_s"] / same["tokens_per_s"],
       "ratio_peak_rss": ours["peak_rss_mb"] / theirs["peak_rss_mb"]}
if sys.argv[3] != "1":
    row["gpu"] = "no CUDA device available: CPU only"
print(json.dumps(row))
PY
done
mv "$out.tmp" "$out"
/usr/bin/python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("%-6s %14s %14s %7s %14s %7s %12s %12s %7s" % ("mode", "tunebook tok/s", "pytorch tok/s", "ratio", "pt same env", "ratio",
                                                  "tunebook MiB", "pytorch MiB", "ratio"))
for r in rows:
    o, t, q = r["tunebook"], r["pytorch"], r["pytorch_same_env"]
    print("%-6s %14.0f %14.0f %6.2fx %14.0f %6.2fx %12.0f %12.0f %6.2fx" % (
        r["mode"], o["tokens_per_s"], t["tokens_per_s"], r["ratio_tokens_per_s"], q["tokens_per_s"], r["ratio_tokens_per_s_same_env"],
        o["peak_rss_mb"], t["peak_rss_mb"], r["ratio_peak_rss"]))
print("pt same env: the same PyTorch loop with GOMP_SPINCOUNT=10000, the threading setting Tunebook applies by default")
if rows and "gpu" in rows[0]:
    print(rows[0]["gpu"])
PY
