using System.Runtime.InteropServices;

namespace Tunebook.Torch.Interop;

/// <summary>
/// Which kernels OpenBLAS, which multiplies libtorch's float32 matrices on a CPU build like Debian's, runs in
/// this process. OpenBLAS picks them when it loads, from the CPU model or from OPENBLAS_CORETYPE, and they
/// set both the speed of every float32 product (on an AMD EPYC with AVX512: 185 GFLOP/s for a 2048²
/// product with Haswell's AVX2 kernels, 354 with SkylakeX's AVX512 ones, 2 threads) and the order its sums
/// are taken in, so the last bits of a loss.
/// </summary>
internal static class OpenBlas
{
    /// <summary>
    /// The kernels the loaded OpenBLAS runs ("Cooperlake", "Haswell"…, from its openblas_get_corename), or null
    /// when libtorch multiplies with another BLAS. The library is found among the process's mapped files, so
    /// asking never loads a second copy.
    /// </summary>
    internal static unsafe string? LoadedCore()
    {
        IEnumerable<string> lines;
        try { lines = File.ReadAllLines("/proc/self/maps"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        foreach (var path in lines.Select(MappedPath).OfType<string>().Where(IsOpenBlasCandidate).Distinct())
        {
            if (!NativeLibrary.TryLoad(path, out var handle)) continue;
            try
            {
                if (NativeLibrary.TryGetExport(handle, "openblas_get_corename", out var function))
                    return Marshal.PtrToStringAnsi(((delegate* unmanaged<IntPtr>)function)())?.Trim();
            }
            finally { NativeLibrary.Free(handle); }
        }
        return null;
    }

    // Debian installs OpenBLAS as libblas.so.3 (the BLAS alternative) as well as libopenblas*.so; cuBLAS and others are not asked.
    static bool IsOpenBlasCandidate(string path) =>
        Path.GetFileName(path) is var name && (name.StartsWith("libblas.", StringComparison.Ordinal) || name.Contains("openblas", StringComparison.Ordinal));

    // "7f..-7f.. r-xp 00000000 fe:01 1234   /usr/lib/.../libblas.so.3" → the path; null for anonymous maps.
    static string? MappedPath(string line)
    {
        int slash = line.IndexOf('/');
        return slash < 0 ? null : line[slash..].Trim();
    }
}
