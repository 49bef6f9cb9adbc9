using System.Collections.Concurrent;
using System.Diagnostics;
using Tunebook.Torch;

namespace Tunebook.Tuning.Training;

/// <summary>
/// Whether bf16 training pays off on a CPU. libtorch multiplies bfloat16 matrices fast only where the CPU
/// has bfloat16 arithmetic (AVX512-BF16, AMX: about twice its float32 rate); elsewhere (AVX2-only CPUs) it
/// falls back to a generic loop that is tens of times slower than float32, and a bf16 run that should
/// take minutes takes hours. The trainer measures both rates once per process and warns before such a run.
/// </summary>
public static class BFloat16Speed
{
    static readonly ConcurrentDictionary<string, (double BFloat16, double Float32)> Measured = new();

    /// <summary>GFLOP/s of a 256³ matrix product in bfloat16 and in float32 on <paramref name="device"/> (best of 3, measured once per process and device).</summary>
    public static (double BFloat16Gflops, double Float32Gflops) Measure(Device device) =>
        Measured.GetOrAdd(device.ToString(), _ => (Rate(ScalarType.BFloat16, device), Rate(ScalarType.Float32, device)));

    static double Rate(ScalarType dtype, Device device)
    {
        using var scope = torch.NewDisposeScope();
        const long n = 256;
        var a = torch.randn([n, n]).to(dtype).to(device);
        a.matmul(a).sum().item<double>();
        double best = double.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            using var inner = torch.NewDisposeScope();
            long start = Stopwatch.GetTimestamp();
            a.matmul(a).sum().item<double>();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }

    /// <summary>The warning for a bf16 run when bfloat16 products are slower than float32 ones; null when they are not.</summary>
    public static string? Warning(double bfloat16Gflops, double float32Gflops) =>
        bfloat16Gflops >= float32Gflops ? null
        : $"bf16 on this CPU: bfloat16 matrix products run at {bfloat16Gflops:F1} GFLOP/s against {float32Gflops:F1} in float32 " +
          $"({float32Gflops / Math.Max(bfloat16Gflops, 1e-9):F0}x slower; the CPU has no bfloat16 arithmetic such as AVX512-BF16 or AMX), " +
          "so this run will be slower than in float32. bf16 still halves the frozen weights' memory; for speed, train in float32 here.";
}
