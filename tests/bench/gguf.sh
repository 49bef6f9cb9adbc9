#!/usr/bin/env bash
# GGUF export throughput (SmolLM2-135M's shapes, random weights) beside the safetensors writer, same run.
# Writes build/bench/gguf.jsonl and prints a table.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The fixed shapes live beside the repository, in shared/bench (as for training.sh).
shapes="${SHAPES:-$(cd .. && pwd)/shared/bench/lora-cpu-smollm2-135m.json}"
[ -f "$shapes" ] || shapes="$(cd ../.. && pwd)/shared/bench/lora-cpu-smollm2-135m.json"
[ -f "$shapes" ] || { echo "gguf bench: lora-cpu-smollm2-135m.json not found in ../shared/bench" >&2; exit 1; }
out=build/bench/gguf.jsonl
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p build/bench

result="$(dotnet run -c Release tests/bench/gguf_bench.cs -- "$work" "$PWD" "$shapes" | tail -1)"

/usr/bin/python3 - "$result" "$out" <<'PY'
import json, sys
r, out = json.loads(sys.argv[1]), sys.argv[2]
print("%-22s %10s %10s %10s %14s" % ("writer (%.0fM params)" % (r["parameters"] / 1e6), "MB", "seconds", "MB/s", "Mparams/s"))
with open(out, "w") as f:
    for name, key in (("gguf q8_0", "gguf_q8_0"), ("gguf f16", "gguf_f16"), ("safetensors f32", "safetensors")):
        mb, s = r[key + "_bytes"] / 1e6, r[key + "_s"]
        f.write(json.dumps({"bench": "gguf-export", "writer": name, "parameters": r["parameters"], "megabytes": round(mb, 1),
                            "seconds": s, "mb_per_s": mb / s, "mparams_per_s": r["parameters"] / 1e6 / s}) + "\n")
        print("%-22s %10.1f %10.2f %10.0f %14.0f" % (name, mb, s, mb / s, r["parameters"] / 1e6 / s))
PY
