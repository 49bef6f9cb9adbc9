#!/usr/bin/env bash
# Reliability in figures (docs/reliability.md): fuzzed model, tokenizer and data files, the kernel under abuse, interrupts of plain loops, a
# cell's own thread throwing, killed writes, interrupts of #!train, long runs. Usage: scripts/reliability.sh [REDUCED|FULL] [results-folder]
# REDUCED (what `make test` runs) uses small counts; FULL (`make reliability`) the documented ones.
# Writes JUnit XML and figures.jsonl (trials, failures, worst case of each figure) into the results folder.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-REDUCED}"
case "$mode" in REDUCED|FULL) ;; *) echo "usage: $0 [REDUCED|FULL] [results-folder]" >&2; exit 2 ;; esac
results="$(mkdir -p "${2:-$root/build/test-results}" && cd "${2:-$root/build/test-results}" && pwd)"
prefix="$root/build/jupyter"
export JUPYTER_PATH="$prefix/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
if [ ! -f "$prefix/share/jupyter/kernels/tunebook/kernel.json" ]; then
  (cd "$root" && ./tunebook kernel install --prefix "$prefix" >/dev/null)
fi
# The loaders run in a child process of the fuzzer, so a native crash is counted instead of ending the run.
(cd "$root" && dotnet build tests/Tunebook.LoadFuzz -c "${CONFIG:-Release}" -v quiet -nologo -clp:ErrorsOnly >/dev/null)
# Killed writes and long runs start the command line as a child process.
(cd "$root" && dotnet build src/Tunebook.Cli -c "${CONFIG:-Release}" -v quiet -nologo -clp:ErrorsOnly >/dev/null)
export RELIABILITY_MODE="$mode"
export RELIABILITY_FIGURES="$results/reliability-figures.jsonl"
rm -f "$RELIABILITY_FIGURES"
status=0
/usr/bin/python3 "$root/tests/kernel/junit_unittest.py" --suite-name "reliability-$mode" \
  --output "$results/reliability.xml" "$root/tests/reliability/test_fuzz_loaders.py" "$root/tests/reliability/test_kernel_abuse.py" \
  "$root/tests/reliability/test_killed_writes.py" "$root/tests/reliability/test_train_interrupts.py" "$root/tests/reliability/test_long_runs.py" || status=1
echo "reliability ($mode), $(date -u +%Y-%m-%d):"
[ -f "$RELIABILITY_FIGURES" ] && /usr/bin/python3 - "$RELIABILITY_FIGURES" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    f = json.loads(line)
    worst = "" if f["worst"] is None else f", worst {f['worst']} {f['unit']}"
    print(f"  {f['figure']}: {f['trials']} trials, {f['failures']} failures{worst}")
PY
exit $status
