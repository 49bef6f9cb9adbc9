using F = Tunebook.Torch.nn.functional;

namespace Tunebook.Torch.Tests;

/// <summary>
/// The fused CPU kernels behind F.rms_norm and F.swiglu (torch.fused_cpu_kernels): values and gradients must be
/// the written-out formula's, computed in float64 from the same inputs, to float32's precision, or to one
/// bfloat16 rounding of the exact result; second derivatives must flow; the switch must restore the written-out
/// formula bit for bit.
/// </summary>
public class FusedKernelsTests
{
    static T With<T>(bool fused, Func<T> body)
    {
        var before = torch.fused_cpu_kernels;
        torch.fused_cpu_kernels = fused;
        try { return body(); }
        finally { torch.fused_cpu_kernels = before; }
    }

    // Relative to the largest magnitude: float32 kernels against float64 (the exp approximation is within 2 ulp).
    static void AssertClose(Tensor expected64, Tensor actual, double tolerance, string what)
    {
        Assert.Equal(expected64.shape, actual.shape);
        var diff = (actual.to(ScalarType.Float64) - expected64).abs().max().item<double>();
        var scale = expected64.abs().max().item<double>();
        Assert.True(diff <= tolerance * Math.Max(1e-3, scale), $"{what}: max |Δ| {diff:E2} against float64 (largest value {scale:E2})");
    }

    // Element by element: within one bfloat16 rounding (relative 2⁻⁸) of the float64 value, plus a little for
    // values next to zero, where the exact result's tiny sum can land either side.
    static void AssertWithinOneRounding(Tensor expected64, Tensor actual16, double absolute, string what)
    {
        Assert.Equal(ScalarType.BFloat16, actual16.dtype);
        var bound = expected64.abs() * (1.0 / 256) + absolute;
        var excess = ((actual16.to(ScalarType.Float64) - expected64).abs() - bound).max().item<double>();
        Assert.True(excess <= 0, $"{what}: an element is {excess:E2} beyond one bfloat16 rounding of the float64 value");
    }

    sealed record Gradients(Tensor Output, Tensor? First, Tensor? Second);

    // d/dx of ‖∂loss/∂x‖²: the first backward keeps its graph (create_graph), so every kernel on the way must have a
    // differentiable backward for the second one to reach x.
    static Tensor GradientOfGradientNorm(Tensor loss, Tensor x)
    {
        loss.backward(create_graph: true);
        var first = x.grad!.clone();
        x.grad!.zero_();
        first.pow(2).sum().backward();
        return x.grad!;
    }

    static Gradients RmsNorm(Tensor x0, Tensor w0, Tensor g, ScalarType dtype, bool weightGrad = true, bool fused = true) => With(fused, () =>
    {
        var x = x0.to(dtype).detach().requires_grad_(true);
        var w = w0.to(dtype).detach().requires_grad_(weightGrad);
        var y = F.rms_norm(x, w, 1e-5);
        (y * g.to(dtype)).sum().backward();
        return new Gradients(y.detach(), x.grad, weightGrad ? w.grad : null);
    });

    static Gradients Swiglu(Tensor g0, Tensor u0, Tensor d, ScalarType dtype, bool fused = true) => With(fused, () =>
    {
        var gate = g0.to(dtype).detach().requires_grad_(true);
        var up = u0.to(dtype).detach().requires_grad_(true);
        var y = F.swiglu(gate, up);
        (y * d.to(dtype)).sum().backward();
        return new Gradients(y.detach(), gate.grad, up.grad);
    });

    // Hidden sizes: one vector register's worth and less, an odd size (a tail after the vector loop), and a
    // training step's rows (many rows, shared out between threads).
    public static TheoryData<long, long> Shapes => new() { { 1, 8 }, { 7, 37 }, { 1024, 512 } };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RmsNorm_in_float32_equals_float64(long rows, long hidden)
    {
        torch.manual_seed(21);
        var x = torch.randn(rows, hidden).to(ScalarType.Float64) * 3;
        var w = torch.randn(hidden).to(ScalarType.Float64);
        var g = torch.randn(rows, hidden).to(ScalarType.Float64);
        var exact = RmsNorm(x, w, g, ScalarType.Float64);
        var ours = RmsNorm(x, w, g, ScalarType.Float32);
        AssertClose(exact.Output, ours.Output, 1e-6, "output");
        AssertClose(exact.First!, ours.First!, 1e-5, "input gradient");
        AssertClose(exact.Second!, ours.Second!, 1e-5, "weight gradient");
    }

    [Fact]
    public void RmsNorm_in_bfloat16_is_the_exact_value_rounded_once()
    {
        torch.manual_seed(22);
        // bfloat16 inputs, the float64 formula on exactly those values as the reference.
        var x = (torch.randn(64, 96) * 2).to(ScalarType.BFloat16).to(ScalarType.Float64);
        var w = torch.randn(96).to(ScalarType.BFloat16).to(ScalarType.Float64);
        var g = torch.randn(64, 96).to(ScalarType.BFloat16).to(ScalarType.Float64);
        var ours = RmsNorm(x, w, g, ScalarType.BFloat16);
        // The output rounds x·r to bfloat16 before the weight's product, as the formula does: two roundings.
        var normed = x * (x.pow(2).mean(-1, keepdim: true) + 1e-5).rsqrt();
        var expected = w * normed.to(ScalarType.BFloat16).to(ScalarType.Float64);
        AssertWithinOneRounding(expected, ours.Output, 0, "output");
        var exact = RmsNorm(x, w, g, ScalarType.Float64);
        AssertWithinOneRounding(exact.First!, ours.First!, 1e-3, "input gradient");
        // The weight's gradient sums 64 rows of bfloat16-rounded x·r: a relative 2⁻⁸ on each term at most.
        AssertClose(exact.Second!, ours.Second!, 1.0 / 128, "weight gradient");
    }

    [Fact]
    public void RmsNorm_takes_strided_inputs_leading_dimensions_and_a_frozen_weight()
    {
        torch.manual_seed(23);
        var x = torch.randn(2, 40, 3, 16).to(ScalarType.Float64);
        var w = torch.randn(40).to(ScalarType.Float64);
        var g = torch.randn(2, 16, 3, 40).to(ScalarType.Float64);
        // A [2, 16, 3, 40] view with the normalized dimension strided.
        var view = x.permute(0, 3, 2, 1);
        var exact = RmsNorm(view, w, g, ScalarType.Float64, weightGrad: false);
        var ours = RmsNorm(view, w, g, ScalarType.Float32, weightGrad: false);
        AssertClose(exact.Output, ours.Output, 1e-6, "output");
        AssertClose(exact.First!, ours.First!, 1e-5, "input gradient");
    }

    [Fact]
    public void RmsNorm_weight_gradient_is_the_same_on_every_call()
    {
        torch.manual_seed(24);
        var x = torch.randn(1024, 512);
        var w = torch.randn(512);
        var g = torch.randn(1024, 512);
        var first = RmsNorm(x, w, g, ScalarType.Float32).Second!;
        for (int i = 0; i < 3; i++)
            Assert.True(first.equal(RmsNorm(x, w, g, ScalarType.Float32).Second!), "the row chunks are summed in a fixed order");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Swiglu_in_float32_equals_float64(long rows, long hidden)
    {
        torch.manual_seed(25);
        // Gates from −40 to 40 reach where σ saturates (and e^x is clamped inside the kernel).
        var gate = torch.randn(rows, hidden).to(ScalarType.Float64) * 8;
        gate.view(-1).narrow(0, 0, 1).fill_(-40);
        gate.view(-1).narrow(0, rows * hidden - 1, 1).fill_(40);
        var up = torch.randn(rows, hidden).to(ScalarType.Float64);
        var d = torch.randn(rows, hidden).to(ScalarType.Float64);
        var exact = Swiglu(gate, up, d, ScalarType.Float64);
        var ours = Swiglu(gate, up, d, ScalarType.Float32);
        AssertClose(exact.Output, ours.Output, 1e-6, "output");
        AssertClose(exact.First!, ours.First!, 1e-6, "gate gradient");
        AssertClose(exact.Second!, ours.Second!, 1e-6, "up gradient");
    }

    [Fact]
    public void Swiglu_in_bfloat16_is_the_exact_value_rounded_once()
    {
        torch.manual_seed(26);
        var gate = (torch.randn(96, 130) * 4).to(ScalarType.BFloat16).to(ScalarType.Float64);
        var up = torch.randn(96, 130).to(ScalarType.BFloat16).to(ScalarType.Float64);
        var d = torch.randn(96, 130).to(ScalarType.BFloat16).to(ScalarType.Float64);
        var exact = Swiglu(gate, up, d, ScalarType.Float64);
        var ours = Swiglu(gate, up, d, ScalarType.BFloat16);
        // A float32 computation rounded once to bfloat16: within 2⁻⁸ of the exact value, plus float32's own error.
        AssertWithinOneRounding(exact.Output, ours.Output, 1e-6, "output");
        AssertWithinOneRounding(exact.First!, ours.First!, 1e-6, "gate gradient");
        AssertWithinOneRounding(exact.Second!, ours.Second!, 1e-6, "up gradient");
    }

    [Fact]
    public void Swiglu_propagates_nan_and_infinity_as_the_formula_does()
    {
        var gate = torch.tensor(new float[] { float.NaN, 0, 1, -1, float.PositiveInfinity });
        var up = torch.tensor(new float[] { 1, float.NaN, 2, 3, 1 });
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            var fused = With(true, () => F.swiglu(gate.to(dtype), up.to(dtype))).to(ScalarType.Float32).data<float>().ToArray();
            var formula = With(false, () => F.swiglu(gate.to(dtype), up.to(dtype))).to(ScalarType.Float32).data<float>().ToArray();
            Assert.True(float.IsNaN(fused[0]) && float.IsNaN(fused[1]), $"{dtype.Name()}: NaN in, NaN out");
            for (int i = 2; i < 4; i++) Assert.Equal(formula[i], fused[i], 2e-2f);
            Assert.True(float.IsPositiveInfinity(fused[4]) && float.IsPositiveInfinity(formula[4]), $"{dtype.Name()}: silu(∞)·1 = ∞");
        }
    }

    [Fact]
    public void Second_derivatives_flow_through_both_kernels()
    {
        torch.manual_seed(27);
        var x0 = torch.randn(6, 24).to(ScalarType.Float64);
        var w0 = torch.randn(24).to(ScalarType.Float64);
        var u0 = torch.randn(6, 24).to(ScalarType.Float64);
        // d/dx of ‖∂L/∂x‖² through rms_norm then swiglu needs both backward passes to be differentiable.
        Tensor SecondOrder(ScalarType dtype) => With(true, () =>
        {
            var x = x0.to(dtype).detach().requires_grad_(true);
            var w = w0.to(dtype).detach().requires_grad_(true);
            var u = u0.to(dtype).detach().requires_grad_(true);
            return GradientOfGradientNorm(F.swiglu(F.rms_norm(x, w, 1e-6), u).pow(2).sum(), x);
        });
        AssertClose(SecondOrder(ScalarType.Float64), SecondOrder(ScalarType.Float32), 1e-4, "second derivative");
    }

    [Fact]
    public void Switching_the_kernels_off_gives_the_written_out_formula_bit_for_bit()
    {
        torch.manual_seed(28);
        var x = torch.randn(32, 64).to(ScalarType.BFloat16);
        var w = torch.randn(64).to(ScalarType.BFloat16);
        var u = torch.randn(32, 64).to(ScalarType.BFloat16);
        Assert.True(With(false, () => F.rms_norm(x, w, 1e-6)).equal(F.rms_norm_composed(x, w, 1e-6)));
        Assert.True(With(false, () => F.swiglu(x, u)).equal(F.swiglu_composed(x, u)));
        // And on, the kernels run: bfloat16 SwiGLU rounds once where the formula rounds twice, so some element differs.
        Assert.False(With(true, () => F.swiglu(x, u)).equal(F.swiglu_composed(x, u)));
    }

    [Fact]
    public void A_weight_that_does_not_match_the_hidden_size_is_a_clear_error()
    {
        var x = torch.randn(4, 16);
        var w = torch.randn(17);
        var e = Assert.ThrowsAny<Exception>(() => With(true, () => F.rms_norm(x, w)));
        Assert.Contains("rms_norm: weight must be [16]", e.Message);
        Assert.Contains("[17]", e.Message);
    }

    [Fact]
    public void Other_dtypes_and_mixed_dtypes_take_the_written_out_formula()
    {
        var x = torch.randn(4, 16).to(ScalarType.Float64);
        var w = torch.randn(16).to(ScalarType.Float64);
        Assert.True(F.rms_norm(x, w).equal(F.rms_norm_composed(x, w)));
        var xb = x.to(ScalarType.BFloat16);
        var w32 = w.to(ScalarType.Float32);
        // A float32 weight on bfloat16 activations promotes, as the formula does.
        var mixed = F.rms_norm(xb, w32);
        Assert.Equal(ScalarType.Float32, mixed.dtype);
        Assert.True(mixed.equal(F.rms_norm_composed(xb, w32)));
    }

    static Gradients Softmax(Tensor x0, Tensor d, double scale, bool causal, ScalarType dtype) => With(true, () =>
    {
        var x = x0.to(dtype).detach().requires_grad_(true);
        var y = dtype == ScalarType.Float64 ? Reference(x, scale, causal) : F.scaled_softmax(x, scale, causal);
        (y * d.to(dtype)).sum().backward();
        return new Gradients(y.detach(), x.grad, null);
    });

    // The formula in float64, as PyTorch writes attention's weights.
    static Tensor Reference(Tensor x, double scale, bool causal)
    {
        var scaled = x * scale;
        if (causal) scaled = scaled.masked_fill(torch.ones([x.size(-2), x.size(-1)], ScalarType.Bool).triu(1), double.NegativeInfinity);
        return scaled.softmax(-1);
    }

    // Fewer queries than keys, more queries than keys (rows past the last key see them all), an odd width.
    public static TheoryData<long[], bool> SoftmaxCases => new()
    {
        { [2, 3, 5, 7], true }, { [2, 9, 4], true }, { [3, 37], false }, { [4, 8, 64, 64], true },
    };

    [Theory]
    [MemberData(nameof(SoftmaxCases))]
    public void Scaled_softmax_in_float32_equals_float64(long[] shape, bool causal)
    {
        torch.manual_seed(29);
        var x = torch.randn(shape).to(ScalarType.Float64) * 4;
        var d = torch.randn(shape).to(ScalarType.Float64);
        var exact = Softmax(x, d, 0.125, causal, ScalarType.Float64);
        var ours = Softmax(x, d, 0.125, causal, ScalarType.Float32);
        AssertClose(exact.Output, ours.Output, 1e-6, "weights");
        AssertClose(exact.First!, ours.First!, 1e-5, "gradient");
        if (causal)   // masked weights and their gradients are exact zeros
        {
            var upper = torch.ones([shape[^2], shape[^1]], ScalarType.Bool).triu(1);
            Assert.Equal(0.0, ours.Output.masked_select(upper.expand(shape)).abs().sum().item<double>());
            Assert.Equal(0.0, ours.First!.masked_select(upper.expand(shape)).abs().sum().item<double>());
        }
    }

    [Fact]
    public void Scaled_softmax_in_bfloat16_is_the_exact_value_rounded_once()
    {
        torch.manual_seed(30);
        var x = (torch.randn(4, 48, 48) * 8).to(ScalarType.BFloat16).to(ScalarType.Float64);
        var d = torch.randn(4, 48, 48).to(ScalarType.BFloat16).to(ScalarType.Float64);
        var exact = Softmax(x, d, 0.125, true, ScalarType.Float64);
        var ours = Softmax(x, d, 0.125, true, ScalarType.BFloat16);
        AssertWithinOneRounding(exact.Output, ours.Output, 1e-6, "weights");
        // The backward reads the bfloat16 weights the forward stored, so it is within a few roundings.
        AssertClose(exact.First!, ours.First!, 4.0 / 256, "gradient");
    }

    [Fact]
    public void Attention_with_the_fused_softmax_equals_the_written_out_formula()
    {
        torch.manual_seed(31);
        var q = torch.randn(2, 8, 40, 16);
        var k = torch.randn(2, 4, 40, 16);
        var v = torch.randn(2, 4, 40, 16);
        var padding = torch.ones([2, 1, 40, 40], ScalarType.Bool).tril();
        padding[0][0].narrow(1, 1, 2).fill_(0);   // the first sequence's positions 1-2 are padding
        var additive = torch.zeros([2, 1, 40, 40]).masked_fill(padding.logical_not(), double.NegativeInfinity);
        foreach (var (mask, causal) in new[] { ((Tensor?)null, true), (padding, false), (additive, false), (additive, true) })
        {
            var expected = With(false, () => F.scaled_dot_product_attention_composed(q.to(ScalarType.Float64), k.to(ScalarType.Float64), v.to(ScalarType.Float64),
                mask?.dtype == ScalarType.Bool ? mask : mask?.to(ScalarType.Float64), 0, causal));
            var actual = With(true, () => F.scaled_dot_product_attention(q, k, v, mask, 0, causal));
            AssertClose(expected, actual, 1e-5, $"attention (mask {mask?.dtype.Name() ?? "none"}, causal {causal})");
        }
    }

    [Fact]
    public void Second_derivatives_flow_through_the_softmax()
    {
        torch.manual_seed(32);
        var x0 = torch.randn(3, 6, 6).to(ScalarType.Float64);
        var c = torch.randn(3, 6, 6).to(ScalarType.Float64);
        Tensor SecondOrder(ScalarType dtype) => With(true, () =>
        {
            var x = x0.to(dtype).detach().requires_grad_(true);
            return GradientOfGradientNorm((F.scaled_softmax(x, 0.5, is_causal: true) * c.to(dtype)).pow(2).sum(), x);
        });
        AssertClose(SecondOrder(ScalarType.Float64), SecondOrder(ScalarType.Float32), 1e-4, "second derivative");
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void Cross_entropy_with_gradient_equals_autograd_of_the_float64_loss(ScalarType dtype)
    {
        torch.manual_seed(33);
        // 37 rows over a 1000-word vocabulary, spread logits; rows 3 and 20 ignored.
        var logits = (torch.randn(37, 1000) * 5).to(dtype);
        var targets = torch.randint(0, 1000, [37]);
        targets.narrow(0, 3, 1).fill_(-100);
        targets.narrow(0, 20, 1).fill_(-100);
        var z = logits.to(ScalarType.Float64).detach().requires_grad_(true);
        var expected = F.cross_entropy(z, targets, reduction: "sum");
        (expected * 0.25).backward();
        var (loss, gradient) = With(true, () => F.cross_entropy_with_gradient(logits, targets, -100, 0.25));
        Assert.Equal(ScalarType.Float32, loss.dtype);
        Assert.Equal(expected.item<double>(), loss.item<double>(), 1e-5 * expected.item<double>());
        Assert.Equal(dtype, gradient!.dtype);
        if (dtype == ScalarType.Float32) AssertClose(z.grad!, gradient, 1e-6, "gradient");
        else AssertWithinOneRounding(z.grad!, gradient, 1e-7, "gradient");
        Assert.Equal(0.0, gradient.narrow(0, 3, 1).to(ScalarType.Float64).abs().sum().item<double>());
        // Without the gradient: the same loss, no gradient.
        var (alone, none) = With(true, () => F.cross_entropy_with_gradient(logits, targets, -100, 0.25, gradient: false));
        Assert.Null(none);
        Assert.Equal(loss.item<double>(), alone.item<double>());
        // And the written-out formula agrees.
        var (composed, composedGradient) = With(false, () => F.cross_entropy_with_gradient(logits, targets, -100, 0.25));
        Assert.Equal(composed.item<double>(), loss.item<double>(), 1e-5 * composed.item<double>());
        AssertClose(composedGradient!.to(ScalarType.Float64), gradient, dtype == ScalarType.Float32 ? 1e-6 : 1.0 / 128, "fused against written out");
    }

    [Fact]
    public void Cross_entropy_with_gradient_rejects_a_target_outside_the_vocabulary_by_row()
    {
        var logits = torch.randn(4, 10);
        var targets = torch.tensor(new long[] { 1, 2, 10, 3 });
        var e = Assert.ThrowsAny<Exception>(() => With(true, () => F.cross_entropy_with_gradient(logits, targets)));
        Assert.Contains("target 10 at row 2 is outside 0..9", e.Message);
    }

    // Sequences of two blocks, of three with a short last one, and grouped key/value heads (two and four query heads
    // to one key/value head).
    [Theory]
    [InlineData(256, 4, ScalarType.Float32)]
    [InlineData(300, 2, ScalarType.Float32)]
    [InlineData(384, 1, ScalarType.Float32)]
    [InlineData(256, 2, ScalarType.BFloat16)]
    [InlineData(300, 1, ScalarType.BFloat16)]
    public void Blocked_causal_attention_equals_the_full_formula(long length, long kvHeads, ScalarType dtype)
    {
        torch.manual_seed(34);
        var q0 = torch.randn(2, 4, length, 16).to(ScalarType.Float64);
        var k0 = torch.randn(2, kvHeads, length, 16).to(ScalarType.Float64);
        var v0 = torch.randn(2, kvHeads, length, 16).to(ScalarType.Float64);
        var d = torch.randn(2, 4, length, 16).to(ScalarType.Float64);
        Tensor[] Run(ScalarType t, bool fused) => With<Tensor[]>(fused, () =>
        {
            var q = q0.to(t).detach().requires_grad_(true);
            var k = k0.to(t).detach().requires_grad_(true);
            var v = v0.to(t).detach().requires_grad_(true);
            var y = F.scaled_dot_product_attention(q, k, v, null, 0, true);
            // The blocked result is laid out [B, L, H, E], so the output projection's transpose(1, 2).reshape copies nothing.
            if (fused) Assert.True(y.transpose(1, 2).is_contiguous());
            (y * d.to(t)).sum().backward();
            return [y.detach(), q.grad!, k.grad!, v.grad!];
        });
        var exact = Run(ScalarType.Float64, false);
        var ours = Run(dtype, true);
        string[] names = ["output", "query gradient", "key gradient", "value gradient"];
        for (int n = 0; n < 4; n++)
            AssertClose(exact[n], ours[n], dtype == ScalarType.Float32 ? 1e-5 : 3.0 / 256, names[n]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(1)]
    public void Second_derivatives_flow_through_blocked_attention(long kvHeads)
    {
        torch.manual_seed(35);
        var q0 = torch.randn(1, 2, 256, 8).to(ScalarType.Float64);
        var k0 = torch.randn(1, kvHeads, 256, 8).to(ScalarType.Float64);
        var v0 = torch.randn(1, kvHeads, 256, 8).to(ScalarType.Float64);
        Tensor SecondOrder(ScalarType dtype) => With(true, () =>
        {
            var q = q0.to(dtype).detach().requires_grad_(true);
            var k = k0.to(dtype).detach().requires_grad_(true);
            var v = v0.to(dtype).detach();
            return GradientOfGradientNorm(F.scaled_dot_product_attention(q, k, v, null, 0, true).pow(2).sum(), q);
        });
        AssertClose(SecondOrder(ScalarType.Float64), SecondOrder(ScalarType.Float32), 1e-4, "second derivative");
    }

    [Fact]
    public void Empty_tensors_give_empty_results_and_gradients()
    {
        With(true, () =>
        {
            var x = torch.zeros([0, 8]).requires_grad_(true);
            var w = torch.ones(8).requires_grad_(true);
            var y = F.rms_norm(x, w) + F.swiglu(x, x) + F.scaled_softmax(x, 0.5);
            Assert.Equal(new long[] { 0, 8 }, y.shape);
            y.sum().backward();
            Assert.Equal(new long[] { 0, 8 }, x.grad!.shape);
            Assert.Equal(0.0, w.grad!.abs().sum().item<double>());
            var (loss, gradient) = F.cross_entropy_with_gradient(torch.zeros([0, 5]), torch.zeros([0], ScalarType.Int64));
            Assert.Equal(0.0, loss.item<double>());
            Assert.Equal(new long[] { 0, 5 }, gradient!.shape);
            return 0;
        });
    }
    // Angles [B or 1, T, D/2] as RotaryEmbedding.Compute builds its tables: cos twice, sin with rotate_half's sign.
    static (Tensor Cos, Tensor Sin) RotaryTables(Tensor angles) =>
        (torch.cat([angles.cos(), angles.cos()], -1), torch.cat([angles.sin().neg(), angles.sin()], -1));

    // The rotation written pair by pair, in float64: channels j and j + D/2 turn by the angle θ_j.
    static Tensor RotateReference(Tensor x, Tensor angles)
    {
        long h = x.size(-1) / 2;
        var c = angles.cos().unsqueeze(1);
        var s = angles.sin().unsqueeze(1);
        var lo = x.narrow(-1, 0, h);
        var hi = x.narrow(-1, h, h);
        return torch.cat([lo * c - hi * s, hi * c + lo * s], -1);
    }

    // x arrives as attention has it: a transposed view [B, H, T, D] of a projection's output [B, T, H·D].
    static Gradients Rotary(Tensor projection0, Tensor angles, Tensor d, long heads, ScalarType dtype) => With(true, () =>
    {
        var projection = projection0.to(dtype).detach().requires_grad_(true);
        long B = projection.size(0), T = projection.size(1), D = projection.size(2) / heads;
        var x = projection.view(B, T, heads, D).transpose(1, 2);
        var (cos, sin) = RotaryTables(angles);
        var y = dtype == ScalarType.Float64 ? RotateReference(x, angles) : F.rotary(x, cos.to(dtype), sin.to(dtype));
        (y * d.to(dtype)).sum().backward();
        return new Gradients(y.detach(), projection.grad, null);
    });

    // One table for all sequences (prompt processing) or one per sequence (left-padded batches), head sizes with
    // and without a vector tail, one position (a decoding step).
    public static TheoryData<long, long, long, long, bool> RotaryCases => new()
    {
        { 2, 5, 3, 8, false }, { 3, 7, 2, 38, true }, { 4, 256, 8, 64, true }, { 2, 1, 4, 64, true },
    };

    [Theory]
    [MemberData(nameof(RotaryCases))]
    public void Rotary_in_float32_equals_the_pairwise_rotation_in_float64(long batch, long length, long heads, long headDim, bool perSequence)
    {
        torch.manual_seed(41);
        var projection = torch.randn(batch, length, heads * headDim).to(ScalarType.Float64);
        var angles = (torch.rand(perSequence ? batch : 1, length, headDim / 2) * 20).to(ScalarType.Float64);
        var d = torch.randn(batch, heads, length, headDim).to(ScalarType.Float64);
        var exact = Rotary(projection, angles, d, heads, ScalarType.Float64);
        var ours = Rotary(projection, angles, d, heads, ScalarType.Float32);
        AssertClose(exact.Output, ours.Output, 1e-6, "output");
        AssertClose(exact.First!, ours.First!, 1e-6, "input gradient");
        Assert.True(ours.Output.is_contiguous(), "the rotated queries are a contiguous [B, H, T, D]");
    }

    [Fact]
    public void Rotary_in_bfloat16_is_the_exact_value_rounded_once()
    {
        torch.manual_seed(42);
        var projection = torch.randn(2, 33, 4 * 64).to(ScalarType.BFloat16).to(ScalarType.Float64);
        var angles = torch.rand(2, 33, 32) * 20;
        // The tables as bfloat16 holds them, so that only the kernel's own rounding remains.
        var (cos16, sin16) = RotaryTables(angles);
        cos16 = cos16.to(ScalarType.BFloat16);
        sin16 = sin16.to(ScalarType.BFloat16);
        var d = torch.randn(2, 4, 33, 64).to(ScalarType.BFloat16);
        var x = projection.view(2, 33, 4, 64).transpose(1, 2);
        var exact = F.rotary_composed(x, cos16.to(ScalarType.Float64), sin16.to(ScalarType.Float64));
        var exactGrad = F.rotary_composed(d.to(ScalarType.Float64), cos16.to(ScalarType.Float64), sin16.neg().to(ScalarType.Float64));
        var (y, grad) = With(true, () =>
        {
            var leaf = projection.to(ScalarType.BFloat16).requires_grad_(true);
            var y = F.rotary(leaf.view(2, 33, 4, 64).transpose(1, 2), cos16, sin16);
            (y * d).sum().backward();
            return (y.detach(), leaf.grad!.view(2, 33, 4, 64).transpose(1, 2));
        });
        AssertWithinOneRounding(exact, y, 1e-6, "output");
        // The transpose of the rotation is the rotation by −θ: the same kernel with the sin table negated.
        AssertWithinOneRounding(exactGrad, grad, 1e-6, "input gradient");
    }

    [Fact]
    public void Rotary_gradient_takes_the_projection_layout_and_tables_that_require_a_gradient_get_one()
    {
        torch.manual_seed(43);
        var angles = torch.rand(1, 6, 4) * 3;
        var (cos, sin) = RotaryTables(angles);
        With(true, () =>
        {
            var projection = torch.randn(2, 6, 3 * 8).requires_grad_(true);
            var x = projection.view(2, 6, 3, 8).transpose(1, 2);
            F.rotary(x, cos, sin).sum().backward();
            Assert.Equal(projection.shape, projection.grad!.shape);
            // Tables that require a gradient take the written-out formula, which gives them one.
            var c = cos.clone().requires_grad_(true);
            var y = F.rotary(x.detach(), c, sin);
            y.pow(2).sum().backward();
            Assert.NotNull(c.grad);
            Assert.True(y.detach().allclose(F.rotary_composed(x.detach(), cos, sin), 1e-6, 1e-6));
            // Tables of the wrong length are not fused; the formula's broadcasting error names them.
            Assert.ThrowsAny<Exception>(() => F.rotary(x.detach(), cos.narrow(1, 0, 5), sin.narrow(1, 0, 5)));
            return 0;
        });
        // Switched off, the written-out formula bit for bit.
        var xb = torch.randn(2, 3, 6, 8).to(ScalarType.BFloat16);
        var (cb, sb) = (cos.to(ScalarType.BFloat16), sin.to(ScalarType.BFloat16));
        Assert.True(With(false, () => F.rotary(xb, cb, sb)).equal(F.rotary_composed(xb, cb, sb)));
    }

    [Fact]
    public void Second_derivatives_flow_through_the_rotary_kernel()
    {
        torch.manual_seed(44);
        var x0 = torch.randn(2, 3, 5, 8).to(ScalarType.Float64);
        var angles = torch.rand(2, 5, 4).to(ScalarType.Float64) * 5;
        Tensor SecondOrder(ScalarType dtype) => With(true, () =>
        {
            var (cos, sin) = RotaryTables(angles);
            var x = x0.to(dtype).detach().requires_grad_(true);
            return GradientOfGradientNorm(F.rotary(x, cos.to(dtype), sin.to(dtype)).pow(3).sum(), x);
        });
        AssertClose(SecondOrder(ScalarType.Float64), SecondOrder(ScalarType.Float32), 1e-4, "second derivative");
    }

    [Fact]
    public void Rotary_of_no_sequences_is_empty()
    {
        With(true, () =>
        {
            var x = torch.zeros([0, 2, 3, 8]).requires_grad_(true);
            var y = F.rotary(x, torch.ones(1, 3, 8), torch.zeros(1, 3, 8));
            Assert.Equal(x.shape, y.shape);
            y.sum().backward();
            Assert.Equal(x.shape, x.grad!.shape);
            return 0;
        });
    }
}
