#!/usr/bin/env bash
# The reduced reliability run that `make test` includes (the full counts: `make reliability`).
# Writes JUnit XML into $1 (default build/test-results).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/../../scripts/reliability.sh" REDUCED "${1:-}"
