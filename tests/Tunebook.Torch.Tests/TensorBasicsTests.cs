using Tunebook.Torch;

namespace Tunebook.Torch.Tests;

public class TensorBasicsTests
{
    [Fact]
    public void CreatesTensorsWithShapeDtypeAndDevice()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
        Assert.Equal(new long[] { 2, 3 }, x.shape);
        Assert.Equal(ScalarType.Float32, x.dtype);
        Assert.Equal(Device.CPU, x.device);
        Assert.Equal(6, x.numel());
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, x.data<float>());

        foreach (var dt in new[] { ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int64, ScalarType.Int32, ScalarType.UInt8, ScalarType.Bool, ScalarType.Float64 })
        {
            var z = torch.zeros([3, 2], dt);
            Assert.Equal(dt, z.dtype);
            Assert.Equal(6 * dt.ElementSize(), z.NumBytes);
        }
        Assert.Equal(new long[] { 0, 2, 4 }, torch.arange(0, 6, 2).data<long>());
        Assert.Equal(new float[] { 7, 7 }, torch.full([2], 7).data<float>());
        Assert.Equal(new float[] { 1, 1, 1 }, torch.ones(3).data<float>());
    }

    [Fact]
    public void ManualSeedMakesRandomnessRepeatable()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(42);
        var a = torch.randn(5).data<float>();
        var ai = torch.randint(0, 100, [5]).data<long>();
        torch.manual_seed(42);
        var b = torch.randn(5).data<float>();
        var bi = torch.randint(0, 100, [5]).data<long>();
        Assert.Equal(a, b);
        Assert.Equal(ai, bi);
        var u = torch.rand(1000).data<float>();
        Assert.All(u, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void ViewsAndIndexing()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.arange(0, 24).reshape(2, 3, 4);
        Assert.Equal(new long[] { 6, 4 }, x.view(6, 4).shape);
        Assert.Equal(new long[] { 4, 3, 2 }, x.permute(2, 1, 0).shape);
        Assert.Equal(new long[] { 2, 4, 3 }, x.transpose(1, 2).shape);
        Assert.Equal(new long[] { 4, 5, 6, 7 }, x[0][1].data<long>());
        Assert.Equal(new long[] { 1, 2 }, x.narrow(2, 1, 2)[0][0].data<long>());
        Assert.Equal(new long[] { 1, 3 }, x[0][0].slice(0, 1, null, 2).data<long>());
        Assert.Equal(new long[] { 8, 9, 10, 11, 0, 1, 2, 3 }, x[0].index_select(0, torch.tensor(new long[] { 2, 0 })).contiguous().data<long>());
        var parts = x.chunk(2, dim: 2);
        Assert.Equal(2, parts.Length);
        Assert.Equal(new long[] { 2, 3, 2 }, parts[1].shape);
        var cat = torch.cat(parts, 2);
        Assert.True(cat.equal(x));
        Assert.Equal(new long[] { 2, 2, 3, 4 }, torch.stack([x, x]).shape);
        Assert.Equal(new long[] { 3, 2, 3, 4 }, x.unsqueeze(0).expand(3, -1, -1, -1).shape);
        var many = torch.arange(0, 100).split(1);
        Assert.Equal(100, many.Length); // more results than the first buffer holds
        Assert.Equal(99L, many[99].item<long>());
        var splits = x.split([1, 2], dim: 1);
        Assert.Equal(new long[] { 2, 2, 4 }, splits[1].shape);
        Assert.Equal(new long[] { 3, 1 }, torch.tensor(new long[] { 3, 1 }).data<long>());
    }

    [Fact]
    public void ElementwiseMathAndComparisons()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new float[] { 1, 2, 3 });
        var b = torch.tensor(new float[] { 4, 5, 6 });
        Assert.Equal(new float[] { 5, 7, 9 }, (a + b).data<float>());
        Assert.Equal(new float[] { -3, -3, -3 }, (a - b).data<float>());
        Assert.Equal(new float[] { 4, 10, 18 }, (a * b).data<float>());
        Assert.Equal(new float[] { 2, 4, 6 }, (a * 2).data<float>());
        Assert.Equal(new float[] { 0, -1, -2 }, (1 - a).data<float>());
        Assert.Equal(new float[] { -1, -2, -3 }, (-a).data<float>());
        Assert.Equal(new bool[] { false, true, false }, a.eq(2).data<bool>());
        Assert.Equal(new bool[] { true, true, true }, a.lt(b).data<bool>());
        Assert.Equal(6f, a.sum().item<float>());
        Assert.Equal(2f, a.mean().item<float>());
        Assert.Equal(3f, a.max().item<float>());
        Assert.Equal(2L, a.argmax().item<long>());
    }

    [Fact]
    public void DtypeConversionsRoundTrip()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new float[] { 1.5f, -2.25f, 3 });
        Assert.Equal(new float[] { 1.5f, -2.25f, 3 }, a.to(ScalarType.BFloat16).to(ScalarType.Float32).data<float>());
        Assert.Equal(new float[] { 1.5f, -2.25f, 3 }, a.half().@float().data<float>());
        Assert.Equal(new long[] { 1, -2, 3 }, a.@long().data<long>());
        var bytes = a.ToBytes();
        Assert.Equal(12, bytes.Length);
        var back = torch.frombuffer(bytes, ScalarType.Float32, [3]);
        Assert.True(back.equal(a));
        Assert.Equal(BitConverter.GetBytes(1.5f), a.view(ScalarType.UInt8).narrow(0, 0, 4).data<byte>());
        var target = torch.zeros(3);
        target.CopyFromBytes(bytes);
        Assert.True(target.equal(a));
        unsafe
        {
            fixed (byte* p = bytes)
                Assert.True(torch.from_pointer((IntPtr)p, bytes.Length, ScalarType.Float32, [3]).equal(a));
        }
    }
}
