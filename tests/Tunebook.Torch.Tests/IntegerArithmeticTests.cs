using Tunebook.Torch;

namespace Tunebook.Torch.Tests;

/// <summary>
/// Integer tensors follow PyTorch's promotion rules: an integer scalar keeps them integer, a
/// floating scalar promotes them to float, and an alpha of 1 is accepted (ATen refuses a floating
/// alpha for integer tensors, so a whole alpha must travel as an integer).
/// </summary>
public class IntegerArithmeticTests
{
    [Fact]
    public void IntegerScalarsKeepIntegerTensorsInteger()
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.tensor(new long[] { 5, 7, 9 });
        AssertLong(new long[] { 6, 8, 10 }, t + 1);
        AssertLong(new long[] { 6, 8, 10 }, 1 + t);
        AssertLong(new long[] { 3, 5, 7 }, t - 2);
        AssertLong(new long[] { -5, -7, -9 }, 0 - t);
        AssertLong(new long[] { 15, 21, 27 }, t * 3);
        AssertLong(new long[] { 15, 21, 27 }, 3 * t);
        AssertLong(new long[] { 2, 1, 0 }, t % 3);
        var i32 = torch.tensor(new int[] { 1, 2 });
        Assert.Equal(ScalarType.Int32, (i32 + 1).dtype);
    }

    [Fact]
    public void FloatingScalarsPromoteIntegerTensorsToFloat()
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.tensor(new long[] { 1, 2 });
        var r = t + 0.5;
        Assert.Equal(ScalarType.Float32, r.dtype);
        Assert.Equal(new float[] { 1.5f, 2.5f }, r.data<float>());
        Assert.Equal(new float[] { 0.5f, 1f }, (t / 2).data<float>()); // true division, as in Python
    }

    [Fact]
    public void TensorSubtractionAndAlphaWorkOnIntegerTensors()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new long[] { 10, 20, 30 });
        var b = torch.tensor(new long[] { 1, 2, 3 });
        AssertLong(new long[] { 9, 18, 27 }, a - b);
        AssertLong(new long[] { 8, 16, 24 }, a.sub(b, alpha: 2));
        AssertLong(new long[] { 13, 26, 39 }, a.add(b, alpha: 3));
        var c = a.clone();
        c.add_(b).sub_(b, alpha: 2).add_(100).mul_(2);
        AssertLong(new long[] { 218, 236, 254 }, c);
        // A fractional alpha on integer tensors is refused by libtorch, with its message.
        var e = Assert.Throws<TorchException>(() => a.sub(b, alpha: 0.5));
        Assert.Contains("alpha", e.Message);
    }

    [Fact]
    public void LargeIntegersAreExact()
    {
        using var scope = torch.NewDisposeScope();
        const long big = (1L << 53) + 1; // not representable as a double
        var t = torch.zeros([2], ScalarType.Int64).fill_(big);
        Assert.Equal(new[] { big, big }, t.data<long>());
        Assert.Equal(new[] { true, true }, t.eq(big).data<bool>());
        Assert.Equal(new[] { big + 1, big + 1 }, (t + 1).data<long>());
    }

    static void AssertLong(long[] expected, Tensor actual)
    {
        Assert.Equal(ScalarType.Int64, actual.dtype);
        Assert.Equal(expected, actual.data<long>());
    }
}
