using Tunebook.Torch.nn;
using F = Tunebook.Torch.nn.functional;

namespace Tunebook.Torch.Tests;

public class ModuleTests
{
    sealed class Attention : Module<Tensor, Tensor>
    {
        public Module<Tensor, Tensor> q_proj;
        public Module<Tensor, Tensor> o_proj;

        public Attention(int dim)
        {
            q_proj = RegisterModule("q_proj", new Linear(dim, dim, bias: false));
            o_proj = RegisterModule("o_proj", new Linear(dim, dim, bias: false));
        }

        public override Tensor forward(Tensor x) => o_proj.forward(q_proj.forward(x));
    }

    sealed class Block : Module<Tensor, Tensor>
    {
        public readonly Attention self_attn;
        public readonly RMSNorm norm;
        public readonly Dropout dropout = new(0.5);

        public Block(int dim)
        {
            self_attn = RegisterModule("self_attn", new Attention(dim));
            norm = RegisterModule("input_layernorm", new RMSNorm(dim));
            RegisterModule("dropout", dropout);
        }

        public override Tensor forward(Tensor x) => x + dropout.forward(self_attn.forward(norm.forward(x)));
    }

    sealed class Tiny : Module<Tensor, Tensor>
    {
        public readonly Embedding embed_tokens;
        public readonly ModuleList<Block> layers;

        public Tiny(int vocab, int dim, int n)
        {
            embed_tokens = RegisterModule("embed_tokens", new Embedding(vocab, dim));
            layers = RegisterModule("layers", new ModuleList<Block>(Enumerable.Range(0, n).Select(_ => new Block(dim))));
            using (torch.NewDisposeScope()) RegisterBuffer("inv_freq", torch.arange(0, 4, 1, ScalarType.Float32), persistent: false);
        }

        public override Tensor forward(Tensor ids)
        {
            var x = embed_tokens.forward(ids);
            foreach (var l in layers) x = l.forward(x);
            return x;
        }
    }

    /// <summary>A wrapper like a LoRA layer: keeps the base Linear and adds a trainable delta.</summary>
    sealed class Wrapped : Module<Tensor, Tensor>
    {
        public readonly Linear @base;
        public readonly Parameter delta;

        public Wrapped(Linear b)
        {
            @base = RegisterModule("base_layer", b);
            using (torch.NewDisposeScope()) delta = RegisterParameter("delta", new Parameter(torch.zeros(b.out_features)))!;
        }

        public override Tensor forward(Tensor x) => @base.forward(x) + delta;
    }

    [Fact]
    public void NamedParametersUseDottedPaths()
    {
        using var model = new Tiny(10, 4, 2);
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.Equal(new[]
        {
            "embed_tokens.weight",
            "layers.0.self_attn.q_proj.weight", "layers.0.self_attn.o_proj.weight", "layers.0.input_layernorm.weight",
            "layers.1.self_attn.q_proj.weight", "layers.1.self_attn.o_proj.weight", "layers.1.input_layernorm.weight",
        }, names);
        Assert.Contains(model.named_modules(), m => m.name == "layers.1.self_attn.q_proj" && m.module is Linear);
        var q = ((Linear)model.get_submodule("layers.1.self_attn.q_proj")).weight;
        Assert.Equal("layers.1.self_attn.q_proj.weight", q.Name);
        Assert.Same(q, model.get_parameter("layers.1.self_attn.q_proj.weight"));
        Assert.Same(model.layers[1].self_attn.q_proj, model.get_submodule("layers.1.self_attn.q_proj"));
        Assert.Equal(new[] { "inv_freq" }, model.named_buffers().Select(b => b.name));
        Assert.Contains("(q_proj): Linear(in_features=4, out_features=4, bias=False)", model.ToString());
    }

    [Fact]
    public void StateDictRoundTripsAndSkipsNonPersistentBuffers()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        using var a = new Tiny(10, 4, 2);
        using var b = new Tiny(10, 4, 2);
        var state = a.state_dict();
        Assert.DoesNotContain("inv_freq", state.Keys);
        Assert.Equal(7, state.Count);
        b.load_state_dict(state);
        var ids = torch.tensor(new long[] { 1, 2, 3 }, [1, 3]);
        a.eval(); b.eval();
        Assert.True(a.forward(ids).equal(b.forward(ids)));
        var partial = new Dictionary<string, Tensor>(state);
        partial.Remove("embed_tokens.weight");
        var (missing, unexpected) = b.load_state_dict(partial, strict: false);
        Assert.Equal(new[] { "embed_tokens.weight" }, missing);
        Assert.Empty(unexpected);
    }

    [Fact]
    public void ReplaceModuleByPathUpdatesRegistryAndField()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new Tiny(10, 4, 1);
        var path = "layers.0.self_attn.q_proj";
        var old = (Linear)model.get_submodule(path);
        var wrapper = new Wrapped(old);
        Assert.Same(old, model.ReplaceModule(path, wrapper));
        Assert.Same(wrapper, model.layers[0].self_attn.q_proj);
        Assert.Contains("layers.0.self_attn.q_proj.base_layer.weight", model.named_parameters().Select(p => p.name));
        Assert.Contains("layers.0.self_attn.q_proj.delta", model.named_parameters().Select(p => p.name));
        model.requires_grad_(false);
        wrapper.delta.requires_grad_(true);
        Assert.Equal(new[] { "layers.0.self_attn.q_proj.delta" }, model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name));
        model.eval();
        var y = model.forward(torch.tensor(new long[] { 1, 2 }, [1, 2])).sum();
        y.backward();
        Assert.NotNull(wrapper.delta.grad);
        Assert.Null(old.weight.grad);
        var bad = Assert.Throws<InvalidOperationException>(() => model.ReplaceModule("layers.0.input_layernorm", new Linear(4, 4)));
        Assert.Contains("RMSNorm", bad.Message);
        Assert.Throws<KeyNotFoundException>(() => model.ReplaceModule("layers.3.self_attn", new Linear(4, 4)));
    }

    [Fact]
    public void TrainAndEvalSwitchDropout()
    {
        using var scope = torch.NewDisposeScope();
        using var d = new Dropout(0.5);
        var x = torch.ones(1000);
        var train = d.forward(x);
        Assert.InRange(train.eq(0).sum().item<long>(), 350, 650);
        Assert.Equal(2f, train.max().item<float>());
        d.eval();
        Assert.True(d.forward(x).equal(x));
        Assert.False(d.training);
    }

    [Fact]
    public void LinearMatchesPyTorchLayoutAndInitBounds()
    {
        using var scope = torch.NewDisposeScope();
        using var l = new Linear(64, 16);
        Assert.Equal(new long[] { 16, 64 }, l.weight.shape);
        double bound = 1 / Math.Sqrt(64);
        Assert.InRange(l.weight.abs().max().item<double>(), bound * 0.8, bound);
        Assert.InRange(l.bias!.abs().max().item<double>(), 0, bound);
        var x = torch.randn(3, 64);
        Assert.True(l.forward(x).allclose(x.matmul(l.weight.t()) + l.bias, 1e-5, 1e-6));
        l.to(ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, l.weight.dtype);
        Assert.True(l.weight.requires_grad);
        Assert.Equal(ScalarType.BFloat16, l.forward(x.bfloat16()).dtype);
    }

    [Fact]
    public void EmbeddingPaddingRowIsZeroAndGetsNoGradient()
    {
        using var scope = torch.NewDisposeScope();
        using var e = new Embedding(5, 3, padding_idx: 0);
        Assert.Equal(new float[] { 0, 0, 0 }, e.weight[0].data<float>());
        e.forward(torch.tensor(new long[] { 0, 1, 0 })).sum().backward();
        Assert.Equal(new float[] { 0, 0, 0 }, e.weight.grad![0].data<float>());
        Assert.Equal(new float[] { 1, 1, 1 }, e.weight.grad![1].data<float>());
    }

    [Fact]
    public void LayerNormAndRmsNormNormalize()
    {
        using var scope = torch.NewDisposeScope();
        using var ln = new LayerNorm(8);
        using var rms = new RMSNorm(8);
        var x = torch.randn(4, 8) * 5 + 3;
        var y = ln.forward(x);
        Assert.True(y.mean(-1).abs().max().item<float>() < 1e-5);
        var r = rms.forward(x);
        Assert.True(r.pow(2).mean(-1).sub(1).abs().max().item<float>() < 1e-3);
        var bf = rms.forward(x.bfloat16());
        Assert.Equal(ScalarType.Float32, bf.dtype); // weight (fp32) × normed (bf16) promotes, as in PyTorch
    }

    sealed class HoldsStateOutside : Module<Tensor, Tensor>
    {
        public readonly List<Device> Moves = new();
        public readonly HoldsStateOutside? Inner;
        public HoldsStateOutside(bool nested)
        {
            RegisterModule("proj", new Linear(2, 2));
            if (nested) Inner = RegisterModule("inner", new HoldsStateOutside(false));
        }
        protected override void MoveState(Device device) => Moves.Add(device);
        public override Tensor forward(Tensor x) => x;
    }

    [Fact]
    public void ToDeviceLetsEveryModuleMoveStateItKeepsOutsideParameters()
    {
        using var scope = torch.NewDisposeScope();
        var outer = new HoldsStateOutside(nested: true);
        outer.to(Device.CPU);
        Assert.Equal(new[] { Device.CPU }, outer.Moves);
        Assert.Equal(new[] { Device.CPU }, outer.Inner!.Moves);
        outer.to(ScalarType.BFloat16); // a dtype cast is not a move
        Assert.Single(outer.Moves);
    }
}
