namespace Tunebook.Torch;

public static partial class torch
{
    /// <summary>Environment variable that sets <see cref="fused_cpu_kernels"/> for the process: "1" or "0" (also true/false, on/off).</summary>
    public const string FusedKernelsVariable = "TUNEBOOK_FUSED_KERNELS";

    static volatile bool _fusedCpuKernels = true;

    /// <summary>
    /// Whether <see cref="nn.functional.rms_norm"/>, <see cref="nn.functional.swiglu"/>, <see cref="nn.functional.scaled_softmax"/>
    /// (attention's weights) and <see cref="nn.functional.cross_entropy_with_gradient"/> run Tunebook's fused CPU kernels
    /// for float32 and bfloat16 tensors (one pass over memory forward and one backward, computing in float32;
    /// docs/engine.md, "Fused kernels") instead of the written-out formula, one libtorch operation per step. On by
    /// default; <c>TUNEBOOK_FUSED_KERNELS=0</c> turns them off for the process. The two round bfloat16 at different
    /// places, so the last bits of a loss depend on it, and run records keep it.
    /// </summary>
    public static bool fused_cpu_kernels
    {
        get { EnsureInitialized(); return _fusedCpuKernels; }
        set { EnsureInitialized(); _fusedCpuKernels = value; }
    }

    /// <summary>Whether an elementwise block over <paramref name="a"/> and <paramref name="b"/> takes the fused kernels now: both on the CPU, one dtype, float32 or bfloat16.</summary>
    internal static bool RunsFused(Tensor a, Tensor b) =>
        fused_cpu_kernels && a.dtype == b.dtype && a.dtype is ScalarType.Float32 or ScalarType.BFloat16
        && a.device.Type == DeviceType.CPU && b.device.Type == DeviceType.CPU;

    static void ApplyFusedKernelsDefault()
    {
        var chosen = Environment.GetEnvironmentVariable(FusedKernelsVariable)?.Trim();
        if (string.IsNullOrEmpty(chosen)) return;
        _fusedCpuKernels = chosen.ToLowerInvariant() switch
        {
            "1" or "true" or "on" => true,
            "0" or "false" or "off" => false,
            _ => throw new TorchException($"{FusedKernelsVariable} must be 1 or 0, got \"{chosen}\""),
        };
    }
}
