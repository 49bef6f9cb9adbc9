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

    /// <summary>
    /// Grouped-query attention (fewer key/value heads than query heads) through the fused entry point
    /// equals the composed formula with keys and values repeated, outputs and the gradients of q, k and v,
    /// for every mask form the grouped path takes (causal, boolean [L, S], additive [B, 1, L, S], per-head
    /// boolean [B, H, L, S], causal plus a mask, a padding mask [B, 1, 1, S] broadcast over queries) and with
    /// more keys than queries.
    /// </summary>
    [Fact]
    public void GroupedQueryAttentionEqualsRepeatedKeysAndValuesWithGradients()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(5);
        const long B = 2, H = 6, Hkv = 2, L = 5, E = 4;
        foreach (var S in new long[] { 5, 7 })
        {
            var masks = new (string Name, Tensor? Mask, bool Causal)[]
            {
                ("causal", null, true),
                ("none", null, false),
                ("bool [L,S]", KeepFirstKey(torch.rand(L, S - 1).gt(0.4)), false),
                ("float [B,1,L,S]", torch.randn(B, 1, L, S), false),
                ("bool [B,H,L,S]", KeepFirstKey(torch.rand(B, H, L, S - 1).gt(0.4)), false),
                ("causal + float [L,S]", torch.randn(L, S), true),
                ("padding bool [B,1,1,S]", KeepFirstKey(torch.rand(B, 1, 1, S - 1).gt(0.4)), false),
            };
            foreach (var (name, mask, causal) in masks)
            {
                var q = torch.randn(B, H, L, E).requires_grad_();
                var k = torch.randn(B, Hkv, S, E).requires_grad_();
                var v = torch.randn(B, Hkv, S, E).requires_grad_();
                var q2 = q.detach().clone().requires_grad_();
                var k2 = k.detach().clone().requires_grad_();
                var v2 = v.detach().clone().requires_grad_();
                var upstream = torch.randn(B, H, L, E);
                var grouped = nn.functional.scaled_dot_product_attention(q, k, v, mask, is_causal: causal);
                var repeated = nn.functional.scaled_dot_product_attention_composed(q2, k2, v2, mask, is_causal: causal);
                Assert.Equal(new[] { B, H, L, E }, grouped.shape);
                Assert.True(grouped.allclose(repeated, 1e-5, 1e-6), $"S={S} {name}: output differs");
                (grouped * upstream).sum().backward();
                (repeated * upstream).sum().backward();
                Assert.True(q.grad!.allclose(q2.grad!, 1e-5, 1e-6), $"S={S} {name}: dq differs");
                Assert.True(k.grad!.allclose(k2.grad!, 1e-5, 1e-6), $"S={S} {name}: dk differs");
                Assert.True(v.grad!.allclose(v2.grad!, 1e-5, 1e-6), $"S={S} {name}: dv differs");
                using (torch.no_grad())
                    Assert.True(nn.functional.scaled_dot_product_attention(q, k, v, mask, is_causal: causal).allclose(repeated, 1e-5, 1e-6), $"S={S} {name}: no-grad output differs");
            }
        }

        // Boolean masks with key 0 always attendable, so no row is fully masked.
        static Tensor KeepFirstKey(Tensor rest)
        {
            var shape = rest.shape.ToArray();
            shape[^1] = 1;
            return torch.cat([torch.ones(shape, ScalarType.Bool), rest], -1);
        }
    }
}

static class MaskHelpers
{
    /// <summary>Keeps the diagonal attendable so no row is fully masked.</summary>
    public static Tensor logical_or_diag(this Tensor mask) => torch.where(torch.eye(mask.shape[0], ScalarType.Bool), torch.ones_like(mask), mask);
}
