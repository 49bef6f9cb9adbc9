using Tunebook.Torch;

/// <summary>
/// The device for tests that take one: TUNEBOOK_TEST_DEVICE (for example "cuda" or "cuda:0"), CPU when
/// unset. scripts/gpu-check.sh runs the Torch, Models and Tuning suites with it set to cuda.
/// </summary>
public static class TestDevice
{
    public const string Variable = "TUNEBOOK_TEST_DEVICE";

    public static Device Current { get; } = Read();

    static Device Read()
    {
        var spec = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(spec)) return Device.CPU;
        var device = new Device(spec.Trim());
        if (device.IsCuda && !torch.cuda.is_available())
            throw new InvalidOperationException($"{Variable}={spec}: CUDA is not available to this libtorch (TUNEBOOK_NATIVE_LIB must name a shim built against a CUDA libtorch)");
        return device;
    }
}
