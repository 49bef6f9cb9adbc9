using Tunebook.Torch.nn;
using Tunebook.Torch.optim;
using F = Tunebook.Torch.nn.functional;

namespace Tunebook.Torch.Tests;

/// <summary>
/// Runs the same operations through Tunebook.Torch and through PyTorch (reference/torch_ops_reference.py)
/// on identical inputs, once per test class, and compares each result.
/// </summary>
public sealed class ParityFixture : IDisposable
{
    public TensorExchange Exchange { get; } = new();
    readonly Dictionary<string, Tensor> _inputs = new();

    public ParityFixture()
    {
        TorchReference.RequirePythonTorch();
        torch.manual_seed(1234);
        void Add(string name, Tensor t) { t.DetachFromDisposeScope(); _inputs[name] = t; Exchange.Write(name, t); }
        Add("a", torch.randn(16, 32));
        Add("b", torch.randn(32, 8));
        Add("ba", torch.randn(3, 4, 5));
        Add("bb", torch.randn(3, 5, 2));
        Add("x", torch.randn(6, 10));
        Add("w", torch.randn(7, 10));
        Add("bias", torch.randn(7));
        Add("logits", torch.randn(6, 5) * 3);
        Add("targets", torch.tensor(new long[] { 0, 4, -100, 2, 2, -100 }));
        Add("ln_w", torch.randn(10));
        Add("ln_b", torch.randn(10));
        Add("ids", torch.tensor(new long[] { 3, 0, 7, 7, 1 }, [1, 5]));
        Add("table", torch.randn(8, 4));
        Add("q", torch.randn(2, 3, 5, 4));
        Add("k", torch.randn(2, 3, 5, 4));
        Add("v", torch.randn(2, 3, 5, 4));
        Add("gather_idx", torch.tensor(new long[] { 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1 }, [6, 2]));
        Add("opt_param", torch.randn(4, 3));
        Add("opt_grad0", torch.randn(4, 3));
        Add("opt_grad1", torch.randn(4, 3));
        Add("opt_grad2", torch.randn(4, 3));
        Add("clip_g0", torch.randn(5) * 2);
        Add("clip_g1", torch.randn(3, 3) * 2);
        Exchange.WriteManifest();
        var (code, stdout, stderr) = TorchReference.Run(TorchReference.ScriptPath("torch_ops_reference.py"), Exchange.Folder);
        if (code != 0) throw new InvalidOperationException($"reference script failed ({code}): {stderr}\n{stdout}");
    }

    public Tensor this[string name] => _inputs[name];

    public void Dispose()
    {
        foreach (var t in _inputs.Values) t.Dispose();
        Exchange.Dispose();
    }
}

public class ParityTests : IClassFixture<ParityFixture>
{
    readonly ParityFixture _f;

    public ParityTests(ParityFixture fixture) => _f = fixture;

    public static TheoryData<string> OpCases => new()
    {
        "matmul", "matmul_bf16", "bmm", "linear", "softmax", "log_softmax", "logsumexp", "cross_entropy", "cross_entropy_sum",
        "cross_entropy_smooth", "layer_norm", "rms_norm", "silu", "gelu", "gelu_tanh", "embedding", "norm", "sdpa_causal",
        "triu_masked", "where", "max_dim_values", "argmax", "gather", "cumsum",
    };

    Tensor Compute(string name) => name switch
    {
        "matmul" => _f["a"].matmul(_f["b"]),
        "matmul_bf16" => _f["a"].bfloat16().matmul(_f["b"].bfloat16()),
        "bmm" => _f["ba"].bmm(_f["bb"]),
        "linear" => F.linear(_f["x"], _f["w"], _f["bias"]),
        "softmax" => _f["logits"].softmax(-1),
        "log_softmax" => _f["logits"].log_softmax(-1),
        "logsumexp" => _f["logits"].logsumexp(-1),
        "cross_entropy" => F.cross_entropy(_f["logits"], _f["targets"], ignore_index: -100),
        "cross_entropy_sum" => F.cross_entropy(_f["logits"], _f["targets"], reduction: "sum"),
        "cross_entropy_smooth" => F.cross_entropy(_f["logits"], _f["targets"], label_smoothing: 0.1),
        "layer_norm" => F.layer_norm(_f["x"], [10], _f["ln_w"], _f["ln_b"], 1e-5),
        "rms_norm" => F.rms_norm(_f["x"], _f["ln_w"], 1e-6),
        "silu" => _f["x"].silu(),
        "gelu" => _f["x"].gelu(),
        "gelu_tanh" => _f["x"].gelu("tanh"),
        "embedding" => F.embedding(_f["ids"], _f["table"]),
        "norm" => _f["x"].norm(),
        "sdpa_causal" => F.scaled_dot_product_attention(_f["q"], _f["k"], _f["v"], is_causal: true),
        "triu_masked" => _f["logits"].masked_fill(torch.ones_like(_f["logits"], ScalarType.Bool).triu(1), -1e9),
        "where" => torch.where(_f["x"].gt(0), _f["x"], _f["x"] * 0.1),
        "max_dim_values" => _f["logits"].max(-1).values,
        "argmax" => _f["logits"].argmax(-1),
        "gather" => _f["logits"].gather(1, _f["gather_idx"]),
        "cumsum" => _f["x"].cumsum(0),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(OpCases))]
    public void OpMatchesPyTorch(string name)
    {
        using var scope = torch.NewDisposeScope();
        var mine = Compute(name);
        var reference = _f.Exchange.Read(name);
        AssertClose(name, reference, mine, name == "matmul_bf16" ? 1e-2 : 1e-5);
    }

    [Theory]
    [InlineData("adamw")]
    [InlineData("adamw_amsgrad")]
    [InlineData("sgd_momentum")]
    [InlineData("sgd_nesterov")]
    public void OptimizerMatchesPyTorchBitForBit(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var p = new Parameter(_f["opt_param"].clone());
        using Optimizer opt = name switch
        {
            "adamw" => new AdamW([p], lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1),
            "adamw_amsgrad" => new AdamW([p], lr: 1e-2, weight_decay: 0.01, amsgrad: true),
            "sgd_momentum" => new SGD([p], lr: 0.1, momentum: 0.9, weight_decay: 0.01),
            "sgd_nesterov" => new SGD([p], lr: 0.1, momentum: 0.9, nesterov: true),
            _ => throw new ArgumentException(name),
        };
        foreach (var g in new[] { "opt_grad0", "opt_grad1", "opt_grad2" })
        {
            p.grad = _f[g].clone();
            opt.step();
        }
        var reference = _f.Exchange.Read(name);
        Assert.Equal(reference.data<float>(), p.detach().data<float>());
    }

    [Fact]
    public void ClipGradNormMatchesPyTorch()
    {
        using var scope = torch.NewDisposeScope();
        using var p0 = new Parameter(torch.zeros(5));
        using var p1 = new Parameter(torch.zeros(3, 3));
        p0.grad = _f["clip_g0"].clone();
        p1.grad = _f["clip_g1"].clone();
        double total = utils.clip_grad_norm_([p0, p1], 1.0);
        Assert.Equal(_f.Exchange.Read("clip_total").item<float>(), (float)total, 5);
        Assert.Equal(_f.Exchange.Read("clip_g0").data<float>(), p0.grad!.data<float>());
        Assert.Equal(_f.Exchange.Read("clip_g1").data<float>(), p1.grad!.data<float>());
        using var after = torch.stack([p0.grad!.norm(), p1.grad!.norm()]).norm();
        Assert.InRange(after.item<double>(), 0.999, 1.0);
    }

    internal static void AssertClose(string name, Tensor expected, Tensor actual, double tolerance)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(expected.dtype, actual.dtype);
        var e = expected.to(ScalarType.Float64).data<double>();
        var a = actual.to(ScalarType.Float64).data<double>();
        for (int i = 0; i < e.Length; i++)
        {
            double diff = Math.Abs(e[i] - a[i]);
            Assert.True(diff <= tolerance * (1 + Math.Abs(e[i])), $"{name}: element {i}: PyTorch {e[i]}, Tunebook {a[i]} (difference {diff})");
        }
    }
}
