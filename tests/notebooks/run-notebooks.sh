#!/usr/bin/env bash
# Executes every notebooks/*.ipynb headless against the installed `tunebook` kernel (nbclient) and
# fails on any error output. JUnit XML (one testcase per notebook) goes into $1; executed copies go to
# build/notebooks/. Further arguments: --update (rewrite the committed notebooks with fresh outputs)
# and/or particular notebook paths.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
results="${1:-$root/build/test-results}"
shift || true
prefix="$root/build/jupyter"
export JUPYTER_PATH="$prefix/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
if [ ! -f "$prefix/share/jupyter/kernels/tunebook/kernel.json" ]; then
  (cd "$root" && ./tunebook kernel install --prefix "$prefix" >/dev/null)
fi
exec /usr/bin/python3 "$here/run_notebooks.py" --results "$results" --output-dir "$root/build/notebooks" "$@"
