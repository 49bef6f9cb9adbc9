#!/usr/bin/env bash
# Packs what a notebook needs for #r "nuget: Tunebook.Interactive.DotNet" into one local folder ($1, default
# build/dni-test/packages): the extension and the Tunebook packages it depends on, from the Release build
# (`make build`). Prints the folder.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$(mkdir -p "${1:-$root/build/dni-test/packages}" && cd "${1:-$root/build/dni-test/packages}" && pwd)"
rm -f "$out"/Tunebook.*.nupkg
for project in Tunebook.Torch Tunebook.Text Tunebook.Models Tunebook.Tuning Tunebook.Interactive Tunebook.Notebook Tunebook.Interactive.DotNet; do
  dotnet pack "$root/src/$project/$project.csproj" -c "${CONFIG:-Release}" --no-build -o "$out" -v quiet -nologo >/dev/null
done
echo "$out"
