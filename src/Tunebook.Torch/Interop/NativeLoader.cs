using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tunebook.Torch.Interop;

/// <summary>
/// Finds libtunebook_torch.so: $TUNEBOOK_NATIVE_LIB, then next to this assembly, then the
/// repository's build/native/ (walking up from the assembly), so tests and notebooks run from a
/// checkout without installing anything.
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
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var handle)) return handle;
        }
        if (NativeLibrary.TryLoad(FileName, assembly, searchPath, out var fallback)) return fallback;
        throw new DllNotFoundException(
            $"Could not load {FileName}. Looked in: {string.Join(", ", tried)}. " +
            "Build it with `make native` (needs libtorch-dev; see scripts/setup-deps.sh) or set TUNEBOOK_NATIVE_LIB to its path.");
    }

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

    internal static IEnumerable<string> Candidates()
    {
        var env = Environment.GetEnvironmentVariable("TUNEBOOK_NATIVE_LIB");
        if (!string.IsNullOrEmpty(env)) yield return env;
        var dir = Path.GetDirectoryName(typeof(NativeLoader).Assembly.Location);
        if (string.IsNullOrEmpty(dir)) dir = AppContext.BaseDirectory;
        yield return Path.Combine(dir, FileName);
        for (var d = new DirectoryInfo(dir); d != null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "build", "native", FileName);
            if (File.Exists(candidate)) { yield return candidate; yield break; }
        }
    }
}
