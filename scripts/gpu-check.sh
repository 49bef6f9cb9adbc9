#!/usr/bin/env bash
# The GPU check: on a machine with PyTorch (CUDA) and no .NET, in one run,
#   shim     builds the native shim against PyTorch's own libtorch
#   parity   tiny random Llama/Mistral/Qwen2/Qwen3/GPT-2 made by transformers load in Tunebook: logits
#            (float32 ≤ 1e-4, bfloat16 figure stated) and greedy continuations, padded inputs
#   peft     a Tunebook adapter in PEFT, a PEFT adapter (modules_to_save) in Tunebook, a merged export in transformers
#   training LoRA r16 all-linear bf16 on a ~1B Llama at sequence 2048, QLoRA (NF4), full fine-tuning of ~350M:
#            Tunebook against transformers + PEFT in the same run (tokens/s, MFU, peak GPU memory)
#   tests    the Torch, Models and Tuning suites with TUNEBOOK_TEST_DEVICE=cuda
# and writes $OUT/gpu-check.json (every figure) and $OUT/gpu-check.log. A failing step is recorded and the
# next one runs. The .NET side comes from build/gpu-bundle.tar.xz (make gpu-bundle) when there is no
# `dotnet` on PATH, or when --bundle names one.
#
#   scripts/gpu-check.sh                 on the GPU machine
#   scripts/gpu-check.sh --dry-run       the same steps on CPU with tiny shapes (also when CUDA is absent);
#                                        make test runs this form through tests/gpu/run-gpu-dryrun.sh
# Options: --bundle FILE, --build-shim (dry run: build the shim too instead of reusing build/native).
# Environment: OUT (default build/gpu-check), PYTHON (default python3; /usr/bin/python3 in a dry run),
# GPU_CHECK_BUDGET seconds for the whole run (default 450; steps past it are recorded as skipped).
set -uo pipefail
# Steps run under `timeout` in a child bash: every variable is exported, and each step's function too.
set -a
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
dry=0; bundle=""; build_shim=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry=1 ;;
    --bundle) bundle="$2"; shift ;;
    --build-shim) build_shim=1 ;;
    *) echo "gpu-check: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
OUT="${OUT:-$root/build/gpu-check}"
mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd)"
work="$root/build/gpu-check-work"
rm -rf "$work"; mkdir -p "$work/results"
results="$work/results"
log="$OUT/gpu-check.log"
: > "$log"
exec > >(tee -a "$log") 2>&1
start_all=$(date +%s)
budget="${GPU_CHECK_BUDGET:-450}"

if [ -z "${PYTHON:-}" ]; then
  if [ "$dry" = 1 ] && [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
check() { "$PYTHON" "$root/scripts/gpu/check.py" "$@"; }
export -f check
if [ "$("$PYTHON" -c 'import torch; print(int(torch.cuda.is_available()))' 2>/dev/null)" != 1 ]; then
  [ "$dry" = 1 ] || echo "gpu-check: CUDA is not available to $PYTHON's torch: running the dry run on CPU"
  dry=1
fi
if [ "$dry" = 1 ]; then device=cpu; size=tiny; else device=cuda; size=small; fi
echo "gpu-check: device $device, python $PYTHON, out $OUT"

# step NAME LIMIT_SECONDS COMMAND...: runs it within the limit and what is left of the budget, records
# the outcome in steps.tsv, never stops the run. rc 3 from a command means "skipped" (it says why).
: > "$work/steps.tsv"
step() {
  local name="$1" limit="$2"; shift 2
  local left=$(( budget - ($(date +%s) - start_all) ))
  [ "$left" -lt "$limit" ] && limit="$left"
  if [ "$limit" -le 5 ]; then
    echo "== $name: skipped (time budget spent)"; printf '%s\tskipped\t0\ttime budget spent\n' "$name" >> "$work/steps.tsv"; return 1
  fi
  echo "== $name (limit ${limit}s)"
  local t0=$(date +%s) rc
  timeout --kill-after=10 "$limit" bash -c '"$@"' step "$@"; rc=$?
  local status=passed note=""
  case $rc in 0) ;; 3) status=skipped; note="a dependency is missing (see log)";; 124|137) status=failed; note="timed out after ${limit}s";; *) status=failed; note="exit $rc";; esac
  printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$(( $(date +%s) - t0 ))" "$note" >> "$work/steps.tsv"
  echo "-- $name: $status${note:+ ($note)} in $(( $(date +%s) - t0 ))s"
  return $rc
}

step env 60 check env "$results/env.json"

# ---- the shim ---------------------------------------------------------------------------------
native="$work/native/libtunebook_torch.so"
build_native() {
  local prefix
  if [ "$dry" = 1 ]; then prefix=""; else prefix="$("$PYTHON" -c 'import torch; print(torch.utils.cmake_prefix_path)')"; fi
  cmake -S src/Tunebook.Torch/native -B "$work/native" -DCMAKE_BUILD_TYPE=Release ${prefix:+-DCMAKE_PREFIX_PATH="$prefix"} &&
    cmake --build "$work/native" -j "$(nproc)"
}
export -f build_native
if [ "$dry" = 1 ] && [ "$build_shim" = 0 ] && [ -f "${TUNEBOOK_NATIVE_LIB:-$root/build/native/libtunebook_torch.so}" ]; then
  native="${TUNEBOOK_NATIVE_LIB:-$root/build/native/libtunebook_torch.so}"
  echo "== shim: dry run reuses $native (--build-shim builds it)"
  printf 'shim\tskipped\t0\tdry run reuses %s\n' "$native" >> "$work/steps.tsv"
else
  step shim 240 build_native
fi
export TUNEBOOK_NATIVE_LIB="$native"
export GLOG_minloglevel=2 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# ---- the .NET side: the bundle, or this checkout's Release builds --------------------------------
if [ -z "$bundle" ] && ! command -v dotnet >/dev/null 2>&1; then bundle="$root/build/gpu-bundle.tar.xz"; fi
if [ -n "$bundle" ]; then
  mkdir -p "$work/bundle"
  unpack() { tar -xJf "$1" -C "$2" || "$PYTHON" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2"; }
  export -f unpack
  step bundle 120 unpack "$bundle" "$work/bundle"
  export DOTNET_ROOT="$work/bundle/dotnet" PATH="$work/bundle/dotnet:$PATH"
  dotnet_exe="$DOTNET_ROOT/dotnet"
  tests_dir() { echo "$work/bundle/tests/$1"; }
  probe_dll="$work/bundle/probe/ParityProbe.dll"
  runner="$work/bundle/runner/xunit.v3.runner.console.exe"
  # The test assemblies find datasets/ and tests/reference under the checkout they were built in.
  built_root="$(cat "$work/bundle/repo-root" 2>/dev/null || true)"
  if [ -n "$built_root" ] && [ ! -e "$built_root" ]; then
    mkdir -p "$(dirname "$built_root")" 2>/dev/null && ln -s "$root" "$built_root" 2>/dev/null ||
      echo "gpu-check: cannot link $built_root to $root: tests that read repository files will fail"
  fi
else
  dotnet_exe="$(command -v dotnet)"
  tests_dir() { echo "$root/tests/$1/bin/Release/net10.0"; }
  probe_dll="$root/tests/gpu/ParityProbe/bin/Release/net10.0/ParityProbe.dll"
  runner="$root/build/gpu-bundle/runner/xunit.v3.runner.console.exe"
fi
probe() { "$dotnet_exe" "$probe_dll" "$@"; }
export -f tests_dir probe

# ---- (b) parity with transformers ---------------------------------------------------------------
models="$work/models"
parity() {
  check make-models "$models" "$size" "$device" || return 1
  local rc=0 arch dtype tol
  probe forward-all "$models" "$models/inputs.json" "$work" "$device" || rc=1
  check reference-all "$models" "$models/inputs.json" "$work" "$device" || rc=1
  # Every family make-models made (Gemma 3, Phi-3 and SmolLM3 only where transformers is importable).
  for arch in $("$PYTHON" -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))))' "$models/made.json"); do
    for dtype in float32 bfloat16; do
      # float32 must agree to 1e-4; bfloat16 is measured and reported (its rounding differs per kernel).
      if [ "$dtype" = float32 ]; then tol=1e-4; else tol=report; fi
      check compare "$work/ref-$arch-$dtype.json" "$work/tb-$arch-$dtype.json" "$results/parity-$arch-$dtype.json" "$tol" "$models/inputs.json" || rc=1
    done
  done
  return $rc
}
export -f parity
step parity 150 parity

# ---- (c) PEFT -------------------------------------------------------------------------------------
peft_checks() {
  local rc=0 base="$models/llama" inputs="$models/inputs.json"
  probe export "$base" "$work/tb-adapter" "$work/tb-merged" "$device" || return 1
  probe forward "$base" "$inputs" "$work/tb-with-tb-adapter.json" "$device" float32 "$work/tb-adapter" || return 1
  # A merged export is a plain model: transformers (or the stand-in) loads it and must give the adapter's logits.
  check reference "$work/tb-merged" "$inputs" "$work/ref-merged.json" float32 "$device" &&
    check compare "$work/ref-merged.json" "$work/tb-with-tb-adapter.json" "$results/peft-merged-export.json" 1e-4 "$inputs" || rc=1
  if ! "$PYTHON" -c 'import peft, transformers' 2>/dev/null; then
    echo "peft: transformers/peft not importable: Tunebook adapter in PEFT and PEFT adapter in Tunebook skipped"
    printf '{"skipped": "transformers/peft not importable"}\n' > "$results/peft-tunebook-adapter-in-peft.json"
    printf '{"skipped": "transformers/peft not importable"}\n' > "$results/peft-peft-adapter-in-tunebook.json"
    return $(( rc ? rc : 3 ))
  fi
  check reference "$base" "$inputs" "$work/ref-tb-adapter.json" float32 "$device" "$work/tb-adapter" &&
    check compare "$work/ref-tb-adapter.json" "$work/tb-with-tb-adapter.json" "$results/peft-tunebook-adapter-in-peft.json" 1e-4 "$inputs" || rc=1
  check peft-make "$base" "$work/peft-adapter" "$device" &&
    check reference "$base" "$inputs" "$work/ref-peft-adapter.json" float32 "$device" "$work/peft-adapter" &&
    probe forward "$base" "$inputs" "$work/tb-with-peft-adapter.json" "$device" float32 "$work/peft-adapter" &&
    check compare "$work/ref-peft-adapter.json" "$work/tb-with-peft-adapter.json" "$results/peft-peft-adapter-in-tunebook.json" 1e-4 "$inputs" || rc=1
  return $rc
}
export -f peft_checks
step peft 90 peft_checks

# ---- (d) training speed ----------------------------------------------------------------------------
training() {
  local rc=0 mode
  check train-specs "$size" "$results" || return 1
  for mode in lora qlora full; do
    probe train "$results/spec-$mode.json" "$results/train-tunebook-$mode.json" "$device" || rc=1
    check train "$results/spec-$mode.json" "$results/train-hf-$mode.json" "$device" || rc=1
  done
  return $rc
}
export -f training
step training 240 training

# ---- (a) the test suites on the device ---------------------------------------------------------------
run_suite() {
  local name="$1" dir; dir="$(tests_dir "$1")"
  local filter=()
  # The dry run keeps to the tests that take a device (make test runs the full suites on CPU anyway).
  [ "$dry" = 1 ] && filter=(-class "$2")
  if [ -f "$runner" ]; then
    TUNEBOOK_TEST_DEVICE="$device" "$dotnet_exe" "$runner" "$dir/$name.dll" "${filter[@]}" -noLogo -noColor -result-junit "$work/$name.xml"
  else
    TUNEBOOK_TEST_DEVICE="$device" dotnet test "$root/tests/$name" -c Release --no-build --nologo \
      ${filter:+--filter "FullyQualifiedName~${2##*.}"} --logger "junit;LogFilePath=$work/$name.xml" --logger "console;verbosity=minimal"
  fi
  local rc=$?
  [ "$rc" = 0 ] || rc=1  # the runner's own codes are not this script's "skipped" (3)
  check junit-counts "$work/$name.xml" "$results/tests-$name.json" "$device"
  return $rc
}
export -f run_suite
step tests-torch 150 run_suite Tunebook.Torch.Tests Tunebook.Torch.Tests.DeviceTests
step tests-models 150 run_suite Tunebook.Models.Tests Tunebook.Models.Tests.DeviceTests
step tests-tuning 150 run_suite Tunebook.Tuning.Tests Tunebook.Tuning.Tests.DeviceTrainingTests

# ---- the figures --------------------------------------------------------------------------------
"$PYTHON" - "$work/steps.tsv" "$results/steps.json" "$dry" <<'PY'
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
json.dump([{"name": n, "status": s, "seconds": int(t), "note": note} for n, s, t, note in rows], open(sys.argv[2], "w"), indent=1)
PY
check summarize "$results" "$OUT/gpu-check.json" "$dry"
echo "gpu-check: $OUT/gpu-check.json, $log ($(( $(date +%s) - start_all ))s)"
! grep -q $'\tfailed\t' "$work/steps.tsv"
