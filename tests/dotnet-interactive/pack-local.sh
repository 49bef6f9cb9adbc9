#!/usr/bin/env bash
# Puts what a notebook needs for #r "nuget: Tunebook.Interactive.DotNet" into one local folder ($1, default
# build/dni-test/packages): the packages `make pack` builds (the extension and the Tunebook packages it depends on).
# Prints the folder.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$(mkdir -p "${1:-$root/build/dni-test/packages}" && cd "${1:-$root/build/dni-test/packages}" && pwd)"
rm -f "$out"/Tunebook.*.nupkg
make -C "$root" -s pack >&2
cp "$root"/build/packages/Tunebook.*.nupkg "$out"/
echo "$out"
