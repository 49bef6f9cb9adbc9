#!/usr/bin/env bash
# The NuGet packages as a user gets them: `make pack`, their contents and nuspec metadata, and both samples
# (samples/train-from-csharp and the file-based app samples/train.cs) restored from build/packages into a
# NuGet cache that holds no Tunebook package, run, and checked for a falling validation loss.
# JUnit XML (one testcase per check) goes into $1 (default build/test-results).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
results="$(mkdir -p "${1:-$root/build/test-results}" && cd "${1:-$root/build/test-results}" && pwd)"
cd "$root"
make -s pack

# The user's NuGet cache without the Tunebook packages: everything else is hard-linked (no download, no copy),
# so the samples restore exactly the Tunebook packages just built, and nothing else changes.
work="$root/build/packages-test"
rm -rf "$work"; mkdir -p "$work/nuget"
user_cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
if [ -d "$user_cache" ]; then
  for d in "$user_cache"/*; do
    case "$(basename "$d")" in tunebook.*) ;; *) cp -al "$d" "$work/nuget/" 2>/dev/null || cp -r "$d" "$work/nuget/" ;; esac
  done
fi
export NUGET_PACKAGES="$work/nuget"
exec /usr/bin/python3 "$here/check_packages.py" --results "$results" --packages "$root/build/packages" --work "$work"
