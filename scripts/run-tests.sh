#!/usr/bin/env bash
# Runs every test project and the notebook checks, then prints one closing line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
results="build/test-results"
rm -rf "$results"; mkdir -p "$results"
status=0

for proj in tests/*/*.Tests.csproj; do
  name="$(basename "$proj" .csproj)"
  echo "== $name"
  dotnet test "$proj" -c "${CONFIG:-Release}" --no-build --nologo \
    --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
    --logger "console;verbosity=minimal" || status=1
done

for script in tests/*/run-*.sh; do
  [ -x "$script" ] || continue
  echo "== $script"
  "$script" "$results" || status=1
done

python3 scripts/summarize-tests.py "$results" || status=1
exit $status
