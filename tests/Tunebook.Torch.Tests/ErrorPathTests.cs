using Tunebook.Torch.nn;
using F = Tunebook.Torch.nn.functional;

namespace Tunebook.Torch.Tests;

/// <summary>Bad input raises a descriptive exception and the process keeps working.</summary>
public class ErrorPathTests
{
    [Fact]
    public void ShapeMismatchRaisesTorchExceptionWithLibtorchMessage()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.zeros(2, 3);
        var b = torch.zeros(4, 5);
        var e = Assert.Throws<TorchException>(() => a.matmul(b));
        Assert.Contains("matmul", e.Message);
        Assert.Contains("2x3", e.Message);
        Assert.Contains("4x5", e.Message);
        Assert.Throws<TorchException>(() => a + torch.zeros(4));
        Assert.Throws<TorchException>(() => a.view(5, 5));
        Assert.Throws<TorchException>(() => torch.cat([a, torch.zeros(3, 3)], 1));
        // The engine still works afterwards.
        Assert.Equal(new long[] { 2, 5 }, a.matmul(torch.zeros(3, 5)).shape);
    }

    [Fact]
    public void WrongDtypeIsReported()
    {
        using var scope = torch.NewDisposeScope();
        var f32 = torch.zeros(2, 2);
        var i64 = torch.zeros([2, 2], ScalarType.Int64);
        Assert.Throws<TorchException>(() => f32.matmul(i64));
        var e = Assert.Throws<ArgumentException>(() => F.embedding(f32, torch.zeros(4, 3)));
        Assert.Contains("int64", e.Message);
        Assert.Contains("float32", e.Message);
        var d = Assert.Throws<ArgumentException>(() => i64.data<float>());
        Assert.Contains("int64", d.Message);
        Assert.Throws<InvalidOperationException>(() => i64.requires_grad_());
    }

    [Fact]
    public void UseAfterDisposeNamesTheTensor()
    {
        var t = torch.ones(3);
        t.Name = "weights";
        t.Dispose();
        t.Dispose(); // idempotent
        var e = Assert.Throws<ObjectDisposedException>(() => t.sum());
        Assert.Contains("weights", e.Message);
        using var other = torch.ones(3);
        Assert.Throws<ObjectDisposedException>(() => other + t);
        Assert.Throws<ObjectDisposedException>(() => t.shape);
        Assert.Contains("disposed", t.ToString());

        var layer = new Linear(2, 2);
        _ = layer.named_parameters().ToList();
        layer.Dispose();
        var pe = Assert.Throws<ObjectDisposedException>(() => layer.weight.sum());
        Assert.Contains("'weight'", pe.Message);
    }

    [Fact]
    public void OutOfRangeIndicesAndBadArgumentsDoNotCrash()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.arange(0, 10, 1, ScalarType.Float32);
        Assert.Throws<TorchException>(() => x.index_select(0, torch.tensor(new long[] { 11 })));
        Assert.Throws<TorchException>(() => F.embedding(torch.tensor(new long[] { 99 }), torch.zeros(4, 3)));
        Assert.Throws<TorchException>(() => x.narrow(0, 8, 5));
        Assert.Throws<TorchException>(() => x.transpose(0, 3));
        Assert.Throws<TorchException>(() => F.cross_entropy(torch.zeros(2, 3), torch.tensor(new long[] { 0, 7 })));
        Assert.Throws<ArgumentException>(() => torch.zeros(-1, 2));
        Assert.Throws<ArgumentException>(() => torch.tensor(new float[] { 1, 2, 3 }, [2, 2]));
        Assert.Throws<ArgumentException>(() => torch.frombuffer(new byte[7], ScalarType.Float32, [2]));
        Assert.Throws<ArgumentException>(() => torch.cat([]));
        Assert.Throws<TorchException>(() => x.backward());
        if (!torch.cuda.is_available()) Assert.Throws<TorchException>(() => torch.zeros([2], device: "cuda:0"));
        Assert.Throws<TorchException>(() => Op.Get("aten::no_such_op"));
        Assert.Throws<TorchException>(() => Op.Get("aten::add.Tensor").Call(x, "not a tensor"));
        Assert.Throws<ArgumentException>(() => Device.ParseSpec("tpu"));
        var sdpa = Assert.Throws<ArgumentException>(() => F.scaled_dot_product_attention(torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 5), torch.zeros(1, 2, 3, 5)));
        Assert.Contains("last dimension", sdpa.Message);
        Assert.Equal(45f, x.sum().item<float>());
    }

    [Fact]
    public void BackwardWithoutGraphExplainsWhy()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.ones(3);
        var e = Assert.Throws<TorchException>(() => x.sum().backward());
        Assert.Contains("does not require grad", e.Message);
        var y = torch.ones([3], requires_grad: true);
        var g = Assert.Throws<TorchException>(() => (y * 2).backward());
        Assert.Contains("scalar", g.Message);
    }

    [Fact]
    public void ModuleStateDictErrorsNameTheKey()
    {
        using var scope = torch.NewDisposeScope();
        using var m = new Linear(3, 2);
        var state = new Dictionary<string, Tensor> { ["weight"] = torch.zeros(2, 4), ["extra"] = torch.zeros(1) };
        var e = Assert.Throws<ArgumentException>(() => m.load_state_dict(state));
        Assert.Contains("'weight'", e.Message);
        Assert.Contains("[2, 4]", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("'bias'", e.Message);
        Assert.Contains("'extra'", e.Message);
    }
}
