using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Tunebook.Kernel.Execution;

/// <summary>
/// Resolves <c>#r "nuget: Name, Version"</c> with the .NET SDK's own NuGet client: a throwaway project
/// that references the package is built in a cache folder (so the user's NuGet.Config sources,
/// credentials and package cache all apply), and the assemblies it copies to its output are returned.
/// A second request for the same exact version reuses the cached build.
/// </summary>
public sealed partial class NuGetRestorer
{
    readonly string _cacheRoot;

    public NuGetRestorer(string? cacheRoot = null)
    {
        _cacheRoot = cacheRoot ?? Environment.GetEnvironmentVariable("TUNEBOOK_NUGET_CACHE")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile, Environment.SpecialFolderOption.DoNotVerify), ".cache", "tunebook", "nuget");
    }

    /// <summary>Parses "Name" or "Name, Version" (the text after "nuget:").</summary>
    public static (string Name, string? Version) ParseSpec(string spec)
    {
        var parts = spec.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is 0 or > 2 || !PackageId().IsMatch(parts[0]))
            throw new ArgumentException($"expected #r \"nuget: PackageName, Version\" (the version is optional), got \"nuget: {spec}\"");
        return (parts[0], parts.Length == 2 ? parts[1] : null);
    }

    /// <summary>Restores and builds the package and its dependencies; returns the paths of their assemblies.</summary>
    public async Task<IReadOnlyList<string>> RestoreAsync(string name, string? version, CancellationToken cancellation)
    {
        bool floating = version is null || version.Contains('*');
        var folder = Path.Combine(_cacheRoot, $"{name.ToLowerInvariant()}-{(floating ? "latest" : version!.ToLowerInvariant())}");
        var output = Path.Combine(folder, "out");
        var done = Path.Combine(folder, "restored.txt");
        if (!floating && File.Exists(done)) return Assemblies(output);

        Directory.CreateDirectory(folder);
        // Two kernels restoring the same package take turns: the second then finds the finished build.
        using var folderLock = await LockAsync(Path.Combine(folder, ".lock"), cancellation);
        if (!floating && File.Exists(done)) return Assemblies(output);
        // Keep any Directory.Build.props / .targets above the cache folder out of the throwaway build.
        File.WriteAllText(Path.Combine(folder, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(folder, "Directory.Build.targets"), "<Project />");
        var tfm = $"net{Environment.Version.Major}.{Environment.Version.Minor}";
        File.WriteAllText(Path.Combine(folder, "restore.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>{tfm}</TargetFramework>
                <AssemblyName>tunebook_nuget_restore</AssemblyName>
                <EnableDefaultItems>false</EnableDefaultItems>
                <CopyLocalLockFileAssemblies>true</CopyLocalLockFileAssemblies>
                <GenerateDocumentationFile>false</GenerateDocumentationFile>
                <NuGetAudit>false</NuGetAudit>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="{System.Security.SecurityElement.Escape(name)}" Version="{System.Security.SecurityElement.Escape(version ?? "*")}" />
              </ItemGroup>
            </Project>
            """);

        var (exit, log) = await RunDotnetAsync(folder, ["build", "restore.csproj", "-c", "Release", "-o", output, "-nologo", "-v", "quiet", "-clp:NoSummary"], cancellation);
        if (exit != 0) throw new InvalidOperationException(Explain(name, version, log));
        if (!floating) File.WriteAllText(done, DateTime.UtcNow.ToString("O"));
        return Assemblies(output);
    }

    static async Task<FileStream> LockAsync(string path, CancellationToken cancellation)
    {
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) { await Task.Delay(250, cancellation); }
        }
    }

    static IReadOnlyList<string> Assemblies(string output) =>
        Directory.Exists(output)
            ? Directory.EnumerateFiles(output, "*.dll").Where(p => Path.GetFileName(p) != "tunebook_nuget_restore.dll").Order().ToList()
            : [];

    static string Explain(string name, string? version, string log)
    {
        var spec = version is null ? name : $"{name}, {version}";
        var errors = log.Split('\n').Select(l => l.Trim()).Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)).Distinct().ToList();
        var reason = errors.Any(e => e.Contains("NU1101"))
            ? $"package {name} was not found in the configured NuGet sources"
            : errors.Any(e => e.Contains("NU1102") || e.Contains("NU1103"))
                ? $"package {name} has no version matching {version ?? "*"} in the configured NuGet sources"
                : $"restoring package {name} failed";
        var detail = errors.Count > 0 ? string.Join("\n", errors.Take(5).Select(e => Regex.Replace(e, @"\s*\[[^\]]*restore\.csproj[^\]]*\]", ""))) : log.Trim();
        return $"#r \"nuget: {spec}\": {reason}.\n{detail}";
    }

    static async Task<(int Exit, string Log)> RunDotnetAsync(string folder, string[] args, CancellationToken cancellation)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start dotnet");
        var log = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellation);
        var stderr = process.StandardError.ReadToEndAsync(cancellation);
        try { await process.WaitForExitAsync(cancellation); }
        catch (OperationCanceledException) { try { process.Kill(entireProcessTree: true); } catch { } throw; }
        log.Append(await stdout).Append(await stderr);
        return (process.ExitCode, log.ToString());
    }

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")] private static partial Regex PackageId();
}
