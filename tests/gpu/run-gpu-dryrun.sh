#!/usr/bin/env bash
# The CPU form of scripts/gpu-check.sh (its --dry-run): every step the GPU check runs, on tiny shapes,
# so the check cannot rot between the runs on a GPU machine. Writes JUnit XML into $1 (default
# build/test-results): one test case per step, skipped where the step says a dependency is missing.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
results="$(mkdir -p "${1:-$root/build/test-results}" && cd "${1:-$root/build/test-results}" && pwd)"
cd "$root"
for p in Tunebook.Torch.Tests Tunebook.Models.Tests Tunebook.Tuning.Tests; do
  [ -f "tests/$p/bin/Release/net10.0/$p.dll" ] || dotnet build "tests/$p" -c Release -v quiet -nologo -clp:ErrorsOnly
done
[ -f tests/gpu/ParityProbe/bin/Release/net10.0/ParityProbe.dll ] || dotnet build tests/gpu/ParityProbe -c Release -v quiet -nologo -clp:ErrorsOnly
[ -f build/gpu-bundle/runner/xunit.v3.runner.console.exe ] || scripts/gpu/stage-runner.sh build/gpu-bundle/runner
OUT="$root/build/gpu-dryrun" scripts/gpu-check.sh --dry-run
rc=$?
/usr/bin/python3 - "$root/build/gpu-check-work/steps.tsv" "$results/gpu-dryrun.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
suite = ET.Element("testsuite", name="gpu-check-dryrun", tests=str(len(rows)),
                   failures=str(sum(r[1] == "failed" for r in rows)), errors="0", skipped=str(sum(r[1] == "skipped" for r in rows)))
for name, status, seconds, note in rows:
    case = ET.SubElement(suite, "testcase", classname="gpu-check.dry-run", name=name, time=seconds)
    if status == "failed":
        ET.SubElement(case, "failure", message=note).text = f"step {name} failed: {note}; see build/gpu-dryrun/gpu-check.log"
    elif status == "skipped":
        ET.SubElement(case, "skipped", message=note)
root = ET.Element("testsuites"); root.append(suite)
tmp = sys.argv[2] + ".tmp"
ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
import os; os.replace(tmp, sys.argv[2])
PY
exit $rc
