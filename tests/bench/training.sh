#!/usr/bin/env bash
# Fine-tuning throughput: LoRA, QLoRA and full fine-tuning with Tunebook's Trainer against the same loop in
# PyTorch (training_reference.py) -- as PyTorch ships and with GOMP_SPINCOUNT=10000 (Tunebook's default) --
# on the fixed configs in ../shared/bench, in the same run: lora-cpu-32m (float32), lora-cpu-32m-bf16
# (bfloat16 compute, float32 masters) and lora-cpu-smollm2-135m (SmolLM2-135M's shapes, float32 and bf16).
# Each row and side runs in its own process (peak RSS is per process). For Tunebook's step it also prints
# where the time goes (forward, backward, optimizer, host) and the share of this CPU's matmul peak, measured
# in the same run (a 2048² product in float32 and bfloat16). Writes build/bench/training.jsonl and prints a
# table; ratio = tunebook tokens/s ÷ pytorch tokens/s (> 1: Tunebook is faster).
#   BENCH_TRAINING_ROWS="CONFIG:MODE:DTYPE ..." picks rows (default: all below); ROUNDS=N rounds per side
#   (default 2, each side keeps its fastest); DEVICE=cuda runs the C# side on a GPU (noted in the JSON).
set -euo pipefail
cd "$(dirname "$0")/../.."
shared="${BENCH_SHARED:-$(cd .. && pwd)/shared/bench}"
ROWS="${BENCH_TRAINING_ROWS:-lora-cpu-32m:lora:float32 lora-cpu-32m:qlora:float32 lora-cpu-32m:full:float32 lora-cpu-32m-bf16:lora:bfloat16 lora-cpu-32m-bf16:qlora:bfloat16 lora-cpu-smollm2-135m:lora:float32 lora-cpu-smollm2-135m:lora:bfloat16}"
DEVICE="${DEVICE:-cpu}"
out=build/bench/training.jsonl
mkdir -p build/bench
: > "$out.tmp"
cuda="$(/usr/bin/python3 -c 'import torch; print(int(torch.cuda.is_available()))')"
dotnet build -c Release -v quiet -nologo tests/bench/training_bench.cs >/dev/null 2>&1 || true
peak="$(dotnet run -c Release tests/bench/training_bench.cs -- peak | tail -1)"
pick='import json,sys; print(json.dumps(max((json.loads(l) for l in sys.stdin if l.strip()), key=lambda r: r["tokens_per_s"])))'
for row in $ROWS; do
  IFS=: read -r name mode dtype <<< "$row"
  spec="$shared/$name.json"
  [ -f "$spec" ] || { echo "training bench: $spec not found (the fixed benchmark configs live in ../shared/bench)" >&2; exit 1; }
  ours_all=""; theirs_all=""; same_all=""
  # The sides alternate, ROUNDS times, and each keeps its fastest round, so a burst of load on a shared
  # machine does not land on one side only.
  for _ in $(seq "${ROUNDS:-2}"); do
    ours_all+="$(dotnet run -c Release tests/bench/training_bench.cs -- "$spec" "$mode" "$DEVICE" "$dtype" | tail -1)"$'\n'
    theirs_all+="$(/usr/bin/python3 tests/bench/training_reference.py "$spec" "$mode" "$dtype" | tail -1)"$'\n'
    same_all+="$(GOMP_SPINCOUNT=10000 /usr/bin/python3 tests/bench/training_reference.py "$spec" "$mode" "$dtype" | tail -1)"$'\n'
  done
  ours="$(printf '%s' "$ours_all" | /usr/bin/python3 -c "$pick")"
  theirs="$(printf '%s' "$theirs_all" | /usr/bin/python3 -c "$pick")"
  same="$(printf '%s' "$same_all" | /usr/bin/python3 -c "$pick")"
  /usr/bin/python3 - "$ours" "$theirs" "$cuda" "$DEVICE" "$same" "$name" "$peak" >> "$out.tmp" <<'PY'
import json, sys
ours, theirs, same, peak = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[5]), json.loads(sys.argv[7])
row = {"bench": "training", "config": sys.argv[6], "mode": ours["mode"], "dtype": ours["dtype"], "device": sys.argv[4],
       "tunebook": ours, "pytorch": theirs, "pytorch_same_env": same,
       "ratio_tokens_per_s": ours["tokens_per_s"] / theirs["tokens_per_s"],
       "ratio_tokens_per_s_same_env": ours["tokens_per_s"] / same["tokens_per_s"],
       "ratio_peak_rss": ours["peak_rss_mb"] / theirs["peak_rss_mb"],
       "matmul_peak_gflops": peak["peak_gflops_" + ours["dtype"]], "blas_core": peak.get("blas_core"), "cpu_matmul": peak.get("cpu_matmul"),
       "fraction_of_matmul_peak": ours["achieved_gflops"] / peak["peak_gflops_" + ours["dtype"]]}
if sys.argv[3] != "1":
    row["gpu"] = "no CUDA device available: CPU only"
print(json.dumps(row))
PY
done
mv "$out.tmp" "$out"
/usr/bin/python3 - "$out" "$peak" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
peak = json.loads(sys.argv[2])
print("%-22s %-5s %-8s %9s %9s %6s %9s %6s %7s %7s %6s %11s %8s %13s" % (
    "config", "mode", "dtype", "tb tok/s", "pt tok/s", "ratio", "pt same", "ratio", "tb MiB", "pt MiB", "ratio",
    "fwd/bwd/opt/host %", "of peak", "loss tb/pt"))
for r in rows:
    o, t, q = r["tunebook"], r["pytorch"], r["pytorch_same_env"]
    ph = o["phases_ms"]; total = sum(ph.values()) or 1
    split = "/".join("%.0f" % (100 * ph[k] / total) for k in ("forward", "backward", "optimizer", "host"))
    print("%-22s %-5s %-8s %9.0f %9.0f %5.2fx %9.0f %5.2fx %7.0f %7.0f %5.2fx %18s %7.0f%% %6.3f/%6.3f" % (
        r["config"], r["mode"], r["dtype"], o["tokens_per_s"], t["tokens_per_s"], r["ratio_tokens_per_s"], q["tokens_per_s"],
        r["ratio_tokens_per_s_same_env"], o["peak_rss_mb"], t["peak_rss_mb"], r["ratio_peak_rss"], split,
        100 * r["fraction_of_matmul_peak"], o["final_loss"], q["final_loss"]))
print("pt same: the same PyTorch loop with GOMP_SPINCOUNT=10000, the threading setting Tunebook applies by default")
print("fwd/bwd/opt/host: Tunebook's step split (Trainer StepPhaseTimes); of peak: the step's matmul FLOP/s over this CPU's "
      "measured matmul peak in the row's dtype (%.0f GFLOP/s float32, %.0f bfloat16, %s; OpenBLAS kernels: %s)" % (
      peak["peak_gflops_float32"], peak["peak_gflops_bfloat16"], peak["matmul"], peak.get("blas_core") or "not OpenBLAS"))
print("Tunebook's float32 products: %s; PyTorch's: its BLAS" % peak.get("cpu_matmul", "BLAS"))
if rows and "gpu" in rows[0]:
    print(rows[0]["gpu"])
PY
