namespace Tunebook.Torch.Tests;

public class AutogradTests
{
    [Fact]
    public void BackwardAccumulatesIntoLeaves()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new float[] { 1, 2, 3 }, requires_grad: true);
        (x * x).sum().backward();
        Assert.Equal(new float[] { 2, 4, 6 }, x.grad!.data<float>());
        (x * 3).sum().backward();
        Assert.Equal(new float[] { 5, 7, 9 }, x.grad!.data<float>());
        x.grad = null;
        Assert.Null(x.grad);
        Assert.True(x.is_leaf);
    }

    [Fact]
    public void BackwardWithExplicitGradientAndRetainGrad()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new float[] { 1, 2 }, requires_grad: true);
        var y = (x * 2).retain_grad();
        var z = y * y;
        z.backward(torch.tensor(new float[] { 1, 10 }));
        Assert.Equal(new float[] { 8, 160 }, x.grad!.data<float>());
        Assert.Equal(new float[] { 4, 80 }, y.grad!.data<float>()); // dz/dy = 2y · g
        var w = x * 5;
        Assert.Null(w.grad); // non-leaf without retain_grad: no gradient and no warning
    }

    [Fact]
    public void DisposingIntermediatesBeforeBackwardIsSafe()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new float[] { 1, 2, 3 }, requires_grad: true);
        var y = x * x;
        var h = y.exp().log();
        var z = h.sum();
        y.Dispose();
        h.Dispose();
        z.backward(); // the graph keeps what it saved
        Assert.True(x.grad!.allclose(torch.tensor(new float[] { 2, 4, 6 }), 1e-5, 1e-6), x.grad!.ToString());
    }

    [Fact]
    public void NoGradAndDetachStopRecording()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.ones([2], requires_grad: true);
        using (torch.no_grad())
        {
            Assert.False(torch.is_grad_enabled());
            Assert.False((x * 2).requires_grad);
            using (torch.enable_grad()) Assert.True((x * 2).requires_grad);
        }
        Assert.True(torch.is_grad_enabled());
        Assert.False((x * 2).detach().requires_grad);
        Assert.True((x * 2).requires_grad);
    }

    [Fact]
    public void InPlaceOptimizerOpsWork()
    {
        using var scope = torch.NewDisposeScope();
        var p = torch.ones(3);
        var g = torch.tensor(new float[] { 1, 2, 3 });
        p.mul_(0.5).add_(g, alpha: 2).addcmul_(g, g, 0.5).addcdiv_(g, torch.full([3], 2), -1).clamp_(max: 7);
        Assert.Equal(new float[] { 2.5f + 0.5f - 0.5f, 4.5f + 2 - 1, 7 }, p.data<float>());
        p.zero_();
        Assert.Equal(0f, p.sum().item<float>());
        p.fill_(3).sqrt_();
        Assert.Equal((float)Math.Sqrt(3), p[0].item<float>(), 6);
    }

    [Fact]
    public void FusedAttentionEqualsComposedAttention()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var q = torch.randn(2, 4, 7, 8);
        var k = torch.randn(2, 4, 7, 8);
        var v = torch.randn(2, 4, 7, 8);
        foreach (var causal in new[] { false, true })
        {
            var fused = nn.functional.scaled_dot_product_attention(q, k, v, is_causal: causal);
            var composed = nn.functional.scaled_dot_product_attention_composed(q, k, v, is_causal: causal);
            Assert.True(fused.allclose(composed, 1e-5, 1e-6), $"causal={causal}: fused ({nn.functional.sdpa_backend}) differs from composed");
        }
        var mask = torch.rand(7, 7).gt(0.3).logical_or_diag();
        Assert.True(nn.functional.scaled_dot_product_attention(q, k, v, mask).allclose(nn.functional.scaled_dot_product_attention_composed(q, k, v, mask), 1e-5, 1e-6));
    }
}

static class MaskHelpers
{
    /// <summary>Keeps the diagonal attendable so no row is fully masked.</summary>
    public static Tensor logical_or_diag(this Tensor mask) => torch.where(torch.eye(mask.shape[0], ScalarType.Bool), torch.ones_like(mask), mask);
}
