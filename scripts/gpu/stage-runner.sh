#!/usr/bin/env bash
# Puts xunit.v3.runner.console into $1. The package ships it for .NET Framework only; with a runtimeconfig
# beside it the .NET runtime runs it (`dotnet xunit.v3.runner.console.exe Suite.dll`), and it runs the
# xunit v2 test assemblies with no SDK, which `dotnet test` would need.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
dest="$1"
version=4.0.3
pkg="${NUGET_PACKAGES:-$HOME/.nuget/packages}/xunit.v3.runner.console/$version/tools/net472"
packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
# The runner's .NET Framework dependencies that are packages on .NET (versions as in XunitRunner.csproj).
extras=(system.configuration.configurationmanager/8.0.1/lib/net8.0/System.Configuration.ConfigurationManager.dll
        system.security.cryptography.protecteddata/8.0.0/lib/net8.0/System.Security.Cryptography.ProtectedData.dll
        system.diagnostics.eventlog/8.0.1/lib/net8.0/System.Diagnostics.EventLog.dll)
missing=0
for f in "$pkg/xunit.v3.runner.console.exe" "${extras[@]/#/$packages/}"; do [ -f "$f" ] || missing=1; done
[ "$missing" = 0 ] || dotnet restore tests/gpu/XunitRunner/XunitRunner.csproj -v quiet >/dev/null
mkdir -p "$dest"
cp "$pkg/xunit.v3.runner.console.exe" "$pkg/xunit.abstractions.dll" "${extras[@]/#/$packages/}" "$dest/"
cat > "$dest/xunit.v3.runner.console.runtimeconfig.json" <<'JSON'
{"runtimeOptions": {"tfm": "net10.0", "rollForward": "LatestMajor", "framework": {"name": "Microsoft.NETCore.App", "version": "10.0.0"}}}
JSON
