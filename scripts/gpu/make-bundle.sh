#!/usr/bin/env bash
# make gpu-bundle: what scripts/gpu-check.sh needs on a machine without .NET, in build/gpu-bundle.tar.xz:
#   dotnet/   the .NET runtime (this machine's /usr/share/dotnet without the SDK)
#   tests/    the Release builds of the Torch, Models and Tuning test suites (framework-dependent)
#   probe/    tests/gpu/ParityProbe (the Tunebook half of the parity and training checks)
#   runner/   xunit.v3.runner.console, which runs the xunit test assemblies with only the runtime
# The native shim is not included: gpu-check.sh builds it there against PyTorch's libtorch.
# The whole tree that travels to the GPU machine (tracked files + this bundle) must stay under 64 MiB.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
stage=build/gpu-bundle
out=build/gpu-bundle.tar.xz
dotnet_home="${DOTNET_HOME:-$(dirname "$(readlink -f "$(command -v dotnet)")")}"
suites=(Tunebook.Torch.Tests Tunebook.Models.Tests Tunebook.Tuning.Tests)

for p in "${suites[@]}"; do dotnet build "tests/$p" -c Release -v quiet -nologo -clp:ErrorsOnly; done
dotnet build tests/gpu/ParityProbe -c Release -v quiet -nologo -clp:ErrorsOnly
scripts/gpu/stage-runner.sh "$stage/runner"

rm -rf "$stage/dotnet" "$stage/tests" "$stage/probe"
mkdir -p "$stage/dotnet/shared/Microsoft.NETCore.App" "$stage/tests"
runtime="$(ls "$dotnet_home/shared/Microsoft.NETCore.App" | sort -V | tail -1)"
cp -a "$dotnet_home/dotnet" "$dotnet_home/host" "$stage/dotnet/"
cp -a "$dotnet_home/shared/Microsoft.NETCore.App/$runtime" "$stage/dotnet/shared/Microsoft.NETCore.App/"
# Debug symbols and a locally built shim stay behind (the shim is rebuilt against the GPU machine's libtorch).
copy_build() { mkdir -p "$2"; cp -a "$1/." "$2/"; find "$2" \( -name '*.pdb' -o -name 'libtunebook_torch.so' \) -delete; }
for p in "${suites[@]}"; do copy_build "tests/$p/bin/Release/net10.0" "$PWD/$stage/tests/$p"; done
copy_build tests/gpu/ParityProbe/bin/Release/net10.0 "$PWD/$stage/probe"
pwd > "$stage/repo-root"

tar -C "$stage" -cf - dotnet tests probe runner repo-root | xz -T2 -6 > "$out.tmp"
mv "$out.tmp" "$out"
bundle=$(stat -c %s "$out")
tracked=$(git ls-files -z | du --files0-from=- -cb 2>/dev/null | tail -1 | cut -f1)
total=$((bundle + tracked))
awk -v b="$bundle" -v t="$tracked" -v o="$out" -v r="$runtime" 'BEGIN { m = 1048576;
  printf "gpu-bundle: %s %.1f MiB (.NET runtime %s); with the tracked tree (%.1f MiB) %.1f MiB of the 64 MiB that can travel\n", o, b/m, r, t/m, (b+t)/m }'
[ "$total" -lt $((64 * 1048576)) ] || { echo "gpu-bundle: over the 64 MiB that can travel" >&2; exit 1; }
