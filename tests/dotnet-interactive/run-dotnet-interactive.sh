#!/usr/bin/env bash
# The .NET Interactive extension for real: packs it with the Tunebook packages into build/dni-test/packages,
# installs the dotnet-interactive tool from .config/dotnet-tools.json (a local tool) and registers its Jupyter
# kernels under build/, then runs the same notebook cells through that kernel and through Tunebook's own
# (test_extension_notebook.py). Writes JUnit XML into $1 (default build/test-results).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
results="$(mkdir -p "${1:-$root/build/test-results}" && cd "${1:-$root/build/test-results}" && pwd)"
cd "$here"
exec /usr/bin/python3 "$root/tests/kernel/junit_unittest.py" --suite-name dotnet-interactive \
  --output "$results/dotnet-interactive.xml" "$here/test_extension_notebook.py"
