#!/usr/bin/env bash
# The Jupyter kernel conformance suite (python3-jupyter-kernel-test) against the `tunebook` kernelspec
# that `make kernel` installs under build/jupyter. Writes JUnit XML into $1 (default build/test-results).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
results="$(mkdir -p "${1:-$root/build/test-results}" && cd "${1:-$root/build/test-results}" && pwd)"
prefix="$root/build/jupyter"
export JUPYTER_PATH="$prefix/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
if [ ! -f "$prefix/share/jupyter/kernels/tunebook/kernel.json" ]; then
  (cd "$root" && ./tunebook kernel install --prefix "$prefix" >/dev/null)
fi
cd "$here"
exec /usr/bin/python3 "$here/junit_unittest.py" --suite-name kernel-conformance \
  --output "$results/kernel-conformance.xml" "$here/test_conformance.py" "$here/test_train_interrupt.py"
