using Tunebook.Models;
using Tunebook.Models.Gpt2;
using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models.Tests;

/// <summary>Adapters (LoRA) replace projections by dotted path; the forward pass must then use the replacement.</summary>
public class ModuleReplacementTests
{
    /// <summary>Wraps a layer and adds a constant, so its effect on the logits is visible.</summary>
    sealed class Shifted(Module<Tensor, Tensor> inner, double shift) : Module<Tensor, Tensor>
    {
        readonly Module<Tensor, Tensor> inner = inner;
        public override Tensor forward(Tensor input)
        {
            using var scope = torch.NewDisposeScope();
            return scope.MoveToOuter(inner.forward(input) + shift);
        }
    }

    [Theory]
    [InlineData("qwen3-qknorm", "model.layers.1.self_attn.v_proj")]
    [InlineData("llama", "model.layers.0.mlp.down_proj")]
    [InlineData("gpt2", "transformer.h.1.attn.c_attn")]
    [InlineData("gpt2", "transformer.h.0.mlp.c_proj")]
    public void ReplacedProjectionIsUsedByForward(string kind, string path)
    {
        using var model = TinyModels.Create(kind);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var ids = TinyModels.Ids([[4, 8, 15, 16, 23, 42]]);
        var before = model.Forward(ids);
        var original = (Module<Tensor, Tensor>)model.get_submodule(path);
        model.ReplaceModule(path, new Shifted(original, 0.0));
        Assert.True(before.equal(model.Forward(ids)), "an identity wrapper changed the logits");
        model.ReplaceModule(path, new Shifted(original, 0.5));
        Assert.False(before.allclose(model.Forward(ids)), $"replacing {path} had no effect on the forward pass");
        model.ReplaceModule(path, original);
        Assert.True(before.equal(model.Forward(ids)));
    }

    [Fact]
    public void Conv1DIsALinearWithTransposedWeight()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(2);
        using var conv = new Conv1D(5, 3);
        var x = torch.randn(2, 4, 5);
        var expected = x.matmul(conv.weight) + conv.bias;
        Assert.True(conv.forward(x).allclose(expected, rtol: 1e-5, atol: 1e-6));
        Assert.Equal(new long[] { 5, 3 }, conv.weight.shape);
    }
}
