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

    /// <summary>
    /// GFLOP/s of a matrix product in bfloat16 and in float32 on <paramref name="device"/> (512³ on a CPU, about a training
    /// step's product and a few milliseconds; 1024³ on a GPU, where a smaller one measures the launch; best of 3, measured
    /// once per process and device).
    /// </summary>
    public static (double BFloat16Gflops, double Float32Gflops) Measure(Device device) =>
        Measured.GetOrAdd(device.ToString(), _ => (Rate(ScalarType.BFloat16, device), Rate(ScalarType.Float32, device)));

    /// <summary>How much faster bfloat16 products must be for <see cref="TrainingPrecision.Auto"/> to take bf16: the casts and the float32 master weights around them cost the rest.</summary>
    public const double AutoSpeedup = 1.5;

    /// <summary>
    /// What <see cref="TrainingPrecision.Auto"/> means on <paramref name="device"/>: <see cref="TrainingPrecision.BFloat16"/> when
    /// bfloat16 products run at least <see cref="AutoSpeedup"/>× the float32 rate, else <see cref="TrainingPrecision.Float32"/>,
    /// with the reason in words ("bf16: bfloat16 products at 410 GFLOP/s against 212 in float32 on cpu").
    /// </summary>
    public static (TrainingPrecision Precision, string Reason) Choose(Device device)
    {
        var (bf16, fp32) = Measure(device);
        return Choose(bf16, fp32, device.ToString());
    }

    /// <summary><see cref="Choose(Device)"/> for measured rates.</summary>
    public static (TrainingPrecision Precision, string Reason) Choose(double bfloat16Gflops, double float32Gflops, string device)
    {
        bool bf16 = double.IsFinite(bfloat16Gflops) && bfloat16Gflops >= AutoSpeedup * float32Gflops;
        var rates = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"bfloat16 products at {bfloat16Gflops:F0} GFLOP/s against {float32Gflops:F0} in float32 on {device}");
        return bf16
            ? (TrainingPrecision.BFloat16, $"precision auto: bf16 ({rates})")
            : (TrainingPrecision.Float32, $"precision auto: float32 ({rates}; bf16 pays from {AutoSpeedup}x)");
    }

    static double Rate(ScalarType dtype, Device device)
    {
        using var scope = torch.NewDisposeScope();
        long n = device.IsCuda ? 1024 : 512;
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
