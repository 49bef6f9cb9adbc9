using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tunebook.Torch.Interop;

/// <summary>
/// Finds libtunebook_torch.so: $TUNEBOOK_NATIVE_LIB, then next to this assembly, then in the
/// Tunebook.Torch package's runtimes/&lt;rid&gt;/native/ (beside the assembly in the NuGet cache, or under
/// the program's output), then the repository's build/native/ (walking up from the assembly), so tests
/// and notebooks run from a checkout without installing anything and programs run from the package.
/// </summary>
internal static class NativeLoader
{
    internal const string LibraryName = "tunebook_torch";
    const string FileName = "libtunebook_torch.so";

#pragma warning disable CA2255 // a library must install its native resolver before any P/Invoke runs
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register()
    {
        NativeLibrary.SetDllImportResolver(typeof(NativeLoader).Assembly, Resolve);
    }

    static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != LibraryName) return IntPtr.Zero;
        PrepareThreadingEnvironment();
        var tried = new List<string>();
        foreach (var candidate in Ordered())
        {
            tried.Add(candidate);
            if (!File.Exists(candidate)) continue;
            // The file is there, so a failure is its dependencies (libtorch) not loading: dlopen's message says which.
            try { return NativeLibrary.Load(candidate); }
            catch (DllNotFoundException e) { throw new DllNotFoundException(MissingLibtorch(candidate, e.Message), e); }
        }
        if (NativeLibrary.TryLoad(FileName, assembly, searchPath, out var fallback)) return fallback;
        throw new DllNotFoundException(
            $"Could not load {FileName}. Looked in: {string.Join(", ", tried)}. " +
            "Reference the Tunebook.Torch package (it carries the library for linux-x64), build it with `make native` " +
            "in a checkout (needs libtorch-dev; see scripts/setup-deps.sh), or set TUNEBOOK_NATIVE_LIB to its path.");
    }

    /// <summary>
    /// The error for a shim that exists but cannot be loaded, almost always because the libtorch it was
    /// built against is not installed: names the libtorch it needs (from the build, <see cref="LibtorchRequirement"/>)
    /// and how to install it, with the loader's own message.
    /// </summary>
    internal static string MissingLibtorch(string path, string loaderMessage) =>
        $"{path} was found but could not be loaded: {loaderMessage.Trim()}. " +
        $"Tunebook.Torch needs {LibtorchRequirement}. Install it, or point LD_LIBRARY_PATH at the folder that holds " +
        "libtorch.so, libtorch_cpu.so and libc10.so; a shim built against another libtorch (`make native TORCH_PREFIX=...`) " +
        "can be selected with TUNEBOOK_NATIVE_LIB.";

    /// <summary>The libtorch the shim was built against and how to install it, as Tunebook.Torch.csproj states it (one source for the package description and this error).</summary>
    internal static string LibtorchRequirement { get; } =
        typeof(NativeLoader).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "LibtorchRequirement")?.Value ?? "libtorch";

    /// <summary>
    /// libtorch's intra-op pool is OpenMP (libgomp), and its fp32 matrix products run on OpenBLAS's own
    /// pthread pool. libgomp's default keeps idle workers spinning for 300,000 iterations after every
    /// parallel region, so they take the cores OpenBLAS's threads need; on a 2-core machine a LoRA step
    /// ran 2.5-3x slower than with workers that spin briefly and then sleep (docs/engine.md, "Threads").
    /// Sleeping at once (OMP_WAIT_POLICY=PASSIVE) is as good for that but halves oneDNN's bf16 matrix
    /// products, which open parallel regions back to back; a short spin (GOMP_SPINCOUNT=10000) keeps
    /// both. libgomp reads these once, when libtorch is loaded, so they must be in the native
    /// environment before that: .NET's Environment.SetEnvironmentVariable does not reach it, libc's
    /// setenv does. A value the user set (OMP_WAIT_POLICY or GOMP_SPINCOUNT) wins.
    /// </summary>
    static void PrepareThreadingEnvironment()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null || Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is not null) return;
        try { setenv("GOMP_SPINCOUNT", SpinCount, 0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { /* no libc setenv: keep defaults */ }
    }

    internal const string SpinCount = "10000";

    [DllImport("libc", CharSet = CharSet.Ansi, ExactSpelling = true)]
    static extern int setenv(string name, string value, int overwrite);

    // $TUNEBOOK_NATIVE_LIB wins; otherwise the newest of the copy next to the assembly and the
    // repository's build/native/ (after `make native` the build output may hold a stale copy).
    static IEnumerable<string> Ordered()
    {
        var all = Candidates().ToList();
        var env = Environment.GetEnvironmentVariable("TUNEBOOK_NATIVE_LIB");
        if (!string.IsNullOrEmpty(env)) return all;
        return all.OrderByDescending(p => File.Exists(p) ? File.GetLastWriteTimeUtc(p) : DateTime.MinValue);
    }

    /// <summary>The runtime identifier the package's native folder is named by (runtimes/linux-x64/native/).</summary>
    internal static string PackageRid =>
        (OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsMacOS() ? "osx" : "win") + "-" +
        RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();

    internal static IEnumerable<string> Candidates()
    {
        var env = Environment.GetEnvironmentVariable("TUNEBOOK_NATIVE_LIB");
        if (!string.IsNullOrEmpty(env)) yield return env;
        var dir = Path.GetDirectoryName(typeof(NativeLoader).Assembly.Location);
        if (string.IsNullOrEmpty(dir)) dir = AppContext.BaseDirectory;
        yield return Path.Combine(dir, FileName);
        // From the package: lib/net10.0/Tunebook.Torch.dll sits two levels below runtimes/<rid>/native/ in the
        // NuGet cache (hosts that load packages in place, such as .NET Interactive's #r "nuget:"); a program's
        // build output gets runtimes/<rid>/native/ copied under it.
        var packaged = Path.Combine("runtimes", PackageRid, "native", FileName);
        yield return Path.GetFullPath(Path.Combine(dir, "..", "..", packaged));
        yield return Path.Combine(dir, packaged);
        for (var d = new DirectoryInfo(dir); d != null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "build", "native", FileName);
            if (File.Exists(candidate)) { yield return candidate; yield break; }
        }
    }
}
