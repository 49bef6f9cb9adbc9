using System.Runtime.InteropServices;
using Tunebook.Torch.Interop;

namespace Tunebook.Torch;

/// <summary>The library that multiplies float32 matrices on the CPU (<see cref="torch.cpu_matmul"/>).</summary>
public enum CpuMatmul
{
    /// <summary>libtorch's own path: its BLAS (OpenBLAS in Debian's libtorch, MKL in PyTorch's builds).</summary>
    Blas,
    /// <summary>oneDNN's sgemm, on libtorch's OpenMP threads.</summary>
    OneDnn,
}

public static partial class torch
{
    /// <summary>Environment variable that picks <see cref="cpu_matmul"/> for the process: "blas" or "onednn".</summary>
    public const string CpuMatmulVariable = "TUNEBOOK_CPU_MATMUL";

    /// <summary>
    /// oneDNN's version ("2.6.3") when this libtorch exposes oneDNN's sgemm to the process, else null (builds that
    /// link oneDNN statically and hide it). Only then can <see cref="cpu_matmul"/> be <see cref="CpuMatmul.OneDnn"/>.
    /// </summary>
    public static string? onednn_version
    {
        get { EnsureInitialized(); return OneDnnVersion(); }
    }

    // Without EnsureInitialized: the process default below is applied while initializing.
    static string? OneDnnVersion() => Marshal.PtrToStringUTF8(NativeMethods.tb_onednn_version()) is { Length: > 0 } version ? version : null;

    /// <summary>
    /// Which library runs float32 matrix products on the CPU: <c>mm</c>, <c>matmul</c> of matrices and of stacks with
    /// the same leading sizes, and <c>linear</c>, forward and backward, each product above <see cref="runs_on_onednn"/>'s
    /// size (broadcasting stacks, other dtypes and GPUs are libtorch's as always; its bfloat16 products already use
    /// oneDNN). The default is <see cref="CpuMatmul.OneDnn"/> where it is available and libtorch's BLAS is not MKL:
    /// OpenBLAS multiplies on its own thread pool, which competes with libtorch's OpenMP pool for the cores during a
    /// training step, and oneDNN runs on the OpenMP pool (docs/engine.md, "Float32 products on the CPU");
    /// <c>TUNEBOOK_CPU_MATMUL=blas</c> or <c>onednn</c> chooses for the process. Both sum in their own
    /// order, so the last bits of a loss depend on it, and run records keep it.
    /// </summary>
    public static CpuMatmul cpu_matmul
    {
        get { EnsureInitialized(); return NativeMethods.tb_cpu_matmul_onednn() == 1 ? CpuMatmul.OneDnn : CpuMatmul.Blas; }
        set
        {
            EnsureInitialized();
            SetCpuMatmul(value, "torch.cpu_matmul");
        }
    }

    /// <summary>
    /// Whether a float32 CPU product [m, k]·[k, n] (or each product of a stack) runs on oneDNN now: when
    /// <see cref="cpu_matmul"/> is <see cref="CpuMatmul.OneDnn"/> and m·k·n is above 2¹⁸, the size below which
    /// OpenBLAS runs a product on the calling thread alone (no second thread pool to avoid, and oneDNN's per-call
    /// setup would cost more than it saves).
    /// </summary>
    public static bool runs_on_onednn(long m, long k, long n)
    {
        EnsureInitialized();
        return NativeMethods.tb_cpu_matmul_takes(m, k, n) == 1;
    }

    /// <summary>"oneDNN 2.6.3" or "BLAS": what <see cref="cpu_matmul"/> runs, as run records and benchmarks name it.</summary>
    public static string cpu_matmul_name => cpu_matmul == CpuMatmul.OneDnn ? $"oneDNN {onednn_version}" : "BLAS";

    static void SetCpuMatmul(CpuMatmul value, string where)
    {
        if (value is not (CpuMatmul.Blas or CpuMatmul.OneDnn))
            throw new ArgumentOutOfRangeException(nameof(value), value, $"{where}: expected CpuMatmul.Blas or CpuMatmul.OneDnn");
        if (NativeMethods.tb_set_cpu_matmul_onednn(value == CpuMatmul.OneDnn ? 1 : 0) != 0)
            throw new TorchException($"{where}: oneDNN cannot run float32 products here ({NativeMethods.LastError()}); use CpuMatmul.Blas");
    }

    /// <summary>The process default (see <see cref="cpu_matmul"/>): the environment variable, else oneDNN where it is available and the BLAS is not MKL.</summary>
    static void ApplyCpuMatmulDefault()
    {
        var chosen = Environment.GetEnvironmentVariable(CpuMatmulVariable)?.Trim();
        if (string.IsNullOrEmpty(chosen))
        {
            bool onednn = OneDnnVersion() is not null && NativeMethods.tb_has_mkl() == 0;
            SetCpuMatmul(onednn ? CpuMatmul.OneDnn : CpuMatmul.Blas, CpuMatmulVariable);
            return;
        }
        var value = chosen.ToLowerInvariant() switch
        {
            "blas" => CpuMatmul.Blas,
            "onednn" => CpuMatmul.OneDnn,
            _ => throw new TorchException($"{CpuMatmulVariable} must be \"blas\" or \"onednn\", got \"{chosen}\""),
        };
        SetCpuMatmul(value, CpuMatmulVariable);
    }
}
