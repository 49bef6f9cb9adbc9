#!/usr/bin/env bash
# A/B of .NET runtime (JIT) settings on generation: runs `Tunebook.Bench generation-profile` under each
# setting, interleaved, ROUNDS times (default 3), one thread, and prints the median per-token wall and CPU
# time of the first full generate call and of the call after it. Not part of `make bench` (not
# executable); run it as `bash tests/bench/jit-ab.sh`. docs/engine.md (The JIT) has what it found.
#   JIT_AB_SETTINGS="name=ENV ..." replaces the settings compared (ENV: VAR=VALUE[,VAR=VALUE]).
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 TUNEBOOK_NUM_THREADS=1 GLOG_minloglevel=2
dotnet build tests/Tunebook.Bench -c Release -v quiet -nologo -clp:ErrorsOnly >/dev/null
settings="${JIT_AB_SETTINGS:-default=_=1 tc-off=DOTNET_TieredCompilation=0 pgo-off=DOTNET_TieredPGO=0 quickjit-off=DOTNET_TC_QuickJit=0 no-delay=DOTNET_TC_CallCountingDelayMs=0}"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for _ in $(seq "${ROUNDS:-3}"); do
  for s in $settings; do
    name=${s%%=*}; envs=${s#*=}
    line=$(env ${envs//,/ } dotnet tests/Tunebook.Bench/bin/Release/net10.0/Tunebook.Bench.dll generation-profile | tail -1)
    echo "{\"setting\": \"$name\", \"profile\": $line}" >> "$tmp"
  done
done
/usr/bin/python3 - "$tmp" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = ["ms_per_token_generate", "cpu_ms_per_token_generate", "ms_per_token_generate_again", "cpu_ms_per_token_generate_again", "ms_forward_one_token", "ms_small_op"]
print("%-14s" % "setting" + "".join("%16s" % k.replace("ms_per_token_generate", "tok").replace("cpu_", "cpu ") for k in keys))
for name in dict.fromkeys(r["setting"] for r in rows):
    rs = [r["profile"] for r in rows if r["setting"] == name]
    print("%-14s" % name + "".join("%16.4f" % statistics.median(r[k] for r in rs) for k in keys))
print("medians of %d rounds, ms; tok: per new token of the first generate call; again: the next call" % (len(rows) // len(set(r['setting'] for r in rows))))
PY
