using F = Tunebook.Torch.nn.functional;

namespace Tunebook.Torch.Tests;

/// <summary>
/// Ops on <see cref="TestDevice.Current"/> (TUNEBOOK_TEST_DEVICE; CPU by default) against the same ops on
/// CPU, and the CUDA caching allocator's statistics (or their "not available" answer in a CPU-only build).
/// </summary>
public class DeviceTests
{
    static double MaxAbsDiff(Tensor a, Tensor b)
    {
        using var d = (a.to(Device.CPU) - b.to(Device.CPU)).abs().max();
        return d.item<double>();
    }

    [Fact]
    public void AttentionAndItsGradientsOnTheTestDeviceMatchCpu()
    {
        using var scope = torch.NewDisposeScope();
        var device = TestDevice.Current;
        torch.manual_seed(3);
        var q = torch.randn([2, 4, 9, 8]);
        var k = torch.randn([2, 2, 9, 8]);
        var v = torch.randn([2, 2, 9, 8]);
        Tensor Run(Device d, out Tensor[] grads)
        {
            var (qd, kd, vd) = (q.to(d).requires_grad_(true), k.to(d).requires_grad_(true), v.to(d).requires_grad_(true));
            var o = F.scaled_dot_product_attention(qd, kd, vd, is_causal: true);
            (o * o).sum().backward();
            grads = [qd.grad!, kd.grad!, vd.grad!];
            return o;
        }
        var expected = Run(Device.CPU, out var expectedGrads);
        var actual = Run(device, out var actualGrads);
        Assert.Equal(device, actual.device);
        Assert.True(MaxAbsDiff(actual, expected) < 1e-4, $"{F.sdpa_backend} on {device}: output differs from CPU by {MaxAbsDiff(actual, expected)}");
        for (int i = 0; i < 3; i++)
            Assert.True(MaxAbsDiff(actualGrads[i], expectedGrads[i]) < 1e-3, $"gradient {i} on {device} differs from CPU by {MaxAbsDiff(actualGrads[i], expectedGrads[i])}");
        // The fused kernel and the written-out formula agree (so the fused path is a real replacement).
        var composed = F.scaled_dot_product_attention_composed(q.to(device), k.to(device), v.to(device), is_causal: true);
        Assert.True(MaxAbsDiff(actual, composed) < 1e-4);
    }

    [Fact]
    public void CudaMemoryStatisticsFollowAllocationsOrSayNotAvailable()
    {
        var device = TestDevice.Current;
        if (!device.IsCuda)
        {
            if (torch.cuda.has_memory_stats()) return; // a CUDA build tested on CPU: the cuda run covers it
            var e = Assert.Throws<InvalidOperationException>(() => torch.cuda.memory_allocated());
            Assert.Contains("not available", e.Message);
            Assert.Contains("not available", Assert.Throws<InvalidOperationException>(() => torch.cuda.reset_peak_memory_stats()).Message);
            return;
        }
        int index = device.Index < 0 ? 0 : device.Index;
        torch.cuda.synchronize(index);
        torch.cuda.reset_peak_memory_stats(index);
        long before = torch.cuda.memory_allocated(index);
        const long bytes = 64L << 20;
        using (var x = torch.empty([bytes / 4], ScalarType.Float32, device))
        {
            long during = torch.cuda.memory_allocated(index);
            Assert.True(during - before >= bytes, $"allocated grew by {during - before}, expected at least {bytes}");
            Assert.True(torch.cuda.memory_reserved(index) >= during);
        }
        long after = torch.cuda.memory_allocated(index);
        Assert.True(after - before < bytes, "freeing the tensor returns its bytes to the allocator");
        Assert.True(torch.cuda.max_memory_allocated(index) - before >= bytes, "the peak remembers the freed tensor");
        torch.cuda.reset_peak_memory_stats(index);
        Assert.Equal(torch.cuda.memory_allocated(index), torch.cuda.max_memory_allocated(index));
        var stats = torch.cuda.memory_stats(index);
        Assert.True(stats.PeakReserved >= stats.Reserved && stats.Reserved >= stats.Allocated);
    }
}
