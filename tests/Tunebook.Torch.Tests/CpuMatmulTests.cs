using F = Tunebook.Torch.nn.functional;

namespace Tunebook.Torch.Tests;

/// <summary>
/// Float32 CPU products through oneDNN (torch.cpu_matmul): values and gradients must be what ATen computes in
/// float64 from the same inputs, in every operand layout the shim reads without a copy (rows, columns) and the
/// ones it copies; the switch must move products between the two libraries and nothing else.
/// </summary>
public class CpuMatmulTests
{
    static T With<T>(CpuMatmul library, Func<T> body)
    {
        var before = torch.cpu_matmul;
        torch.cpu_matmul = library;
        try { return body(); }
        finally { torch.cpu_matmul = before; }
    }

    // Debian's libtorch links oneDNN as a shared library, so its sgemm is always there in this suite.
    static void Require_onednn() => Assert.True(torch.onednn_version is not null, "this libtorch does not expose oneDNN's sgemm");

    static void AssertClose(Tensor expected64, Tensor actual32, string what)
    {
        Assert.Equal(ScalarType.Float32, actual32.dtype);
        Assert.Equal(expected64.shape, actual32.shape);
        var diff = (actual32.to(ScalarType.Float64) - expected64).abs().max().item<double>();
        var scale = expected64.abs().max().item<double>();
        Assert.True(diff <= 1e-5 * Math.Max(1, scale), $"{what}: max |Δ| {diff:E2} against float64 (largest value {scale:F2})");
    }

    [Fact]
    public void OneDnn_is_the_default_where_this_libtorch_exposes_it()
    {
        Require_onednn();
        // Debian's libtorch has no MKL: its BLAS is OpenBLAS, and products go to oneDNN unless the environment chose.
        var chosen = Environment.GetEnvironmentVariable(torch.CpuMatmulVariable);
        var expected = string.Equals(chosen, "blas", StringComparison.OrdinalIgnoreCase) ? CpuMatmul.Blas : CpuMatmul.OneDnn;
        Assert.Equal(expected, torch.cpu_matmul);
        Assert.Equal(expected == CpuMatmul.Blas ? "BLAS" : $"oneDNN {torch.onednn_version}", torch.cpu_matmul_name);
    }

    // Operand layouts sgemm reads in place (rows contiguous, columns contiguous, rows with a longer stride) and
    // one it cannot (a broadcast row, stride 0: copied first).
    public static TheoryData<string> Layouts => new() { "rows", "columns", "strided", "broadcast" };

    static Tensor Layout(Tensor m, string layout) => layout switch
    {
        "rows" => m.contiguous(),
        "columns" => m.t().contiguous().t(),
        "strided" => torch.cat([m, m], 1).narrow(1, m.size(1), m.size(1)),
        "broadcast" => m[0].unsqueeze(0).expand(m.size(0), m.size(1)),
        _ => throw new ArgumentException(layout),
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void A_product_equals_float64_in_every_layout(string layout)
    {
        Require_onednn();
        torch.manual_seed(11);
        var A = Layout(torch.randn(37, 300), layout);
        var B = Layout(torch.randn(300, 53), layout);
        Assert.True(With(CpuMatmul.OneDnn, () => torch.runs_on_onednn(37, 300, 53)));
        var expected = A.to(ScalarType.Float64).mm(B.to(ScalarType.Float64));
        AssertClose(expected, With(CpuMatmul.OneDnn, () => A.mm(B)), $"mm, {layout}");
        AssertClose(expected, With(CpuMatmul.OneDnn, () => A.matmul(B)), $"matmul, {layout}");
        AssertClose(expected, With(CpuMatmul.OneDnn, () => F.linear(A, B.t())), $"linear, {layout}");
        Assert.True(With(CpuMatmul.OneDnn, () => A.mm(B)).allclose(With(CpuMatmul.Blas, () => A.mm(B)), rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void Stacks_of_matrices_fold_into_one_batched_product()
    {
        Require_onednn();
        torch.manual_seed(12);
        // [B, H, T, D] @ [B, H, D, S] as attention multiplies (keys transposed), [n, M, K] @ [n, K, N], and
        // [.., K] @ [K, N] with leading dimensions.
        var q = torch.randn(2, 3, 96, 64);
        var k = torch.randn(2, 3, 80, 64);
        Assert.True(With(CpuMatmul.OneDnn, () => torch.runs_on_onednn(96, 64, 80)));
        AssertClose(q.to(ScalarType.Float64).matmul(k.to(ScalarType.Float64).transpose(-2, -1)),
            With(CpuMatmul.OneDnn, () => q.matmul(k.transpose(-2, -1))), "scores");
        var a = torch.randn(5, 70, 64);
        var b = torch.randn(5, 64, 90);
        AssertClose(a.to(ScalarType.Float64).matmul(b.to(ScalarType.Float64)), With(CpuMatmul.OneDnn, () => a.matmul(b)), "stack");
        var w = torch.randn(64, 100);
        AssertClose(a.to(ScalarType.Float64).matmul(w.to(ScalarType.Float64)), With(CpuMatmul.OneDnn, () => a.matmul(w)), "rows");
        // Broadcasting stacks are left to ATen and still right.
        var one = torch.randn(1, 64, 90);
        AssertClose(a.to(ScalarType.Float64).matmul(one.to(ScalarType.Float64)), With(CpuMatmul.OneDnn, () => a.matmul(one)), "broadcast");
    }

    [Fact]
    public void Linear_gradients_equal_float64_and_a_frozen_weight_gets_none()
    {
        Require_onednn();
        torch.manual_seed(13);
        var x0 = torch.randn(4, 30, 64);
        var w0 = torch.randn(48, 64);
        var b0 = torch.randn(48);
        var g0 = torch.randn(4, 30, 48);
        Assert.True(With(CpuMatmul.OneDnn, () => torch.runs_on_onednn(120, 48, 64) && torch.runs_on_onednn(64, 120, 48)));

        (Tensor y, Tensor? gx, Tensor? gw, Tensor? gb) Run(ScalarType dtype, bool trainWeight)
        {
            // Fresh leaves each run (to() returns the tensor itself when the dtype is already right).
            var x = x0.to(dtype).clone().requires_grad_(true);
            var w = w0.to(dtype).clone().requires_grad_(trainWeight);
            var b = b0.to(dtype).clone().requires_grad_(trainWeight);
            var y = F.linear(x, w, b);
            (y * g0.to(dtype)).sum().backward();
            return (y, x.grad, w.grad, b.grad);
        }

        var reference = Run(ScalarType.Float64, true);
        var ours = With(CpuMatmul.OneDnn, () => Run(ScalarType.Float32, true));
        AssertClose(reference.y, ours.y, "output");
        AssertClose(reference.gx!, ours.gx!, "input gradient");
        AssertClose(reference.gw!, ours.gw!, "weight gradient");
        AssertClose(reference.gb!, ours.gb!, "bias gradient");

        var frozen = With(CpuMatmul.OneDnn, () => Run(ScalarType.Float32, false));
        Assert.Null(frozen.gw);
        Assert.Null(frozen.gb);
        AssertClose(reference.gx!, frozen.gx!, "input gradient through a frozen weight");
    }

    [Fact]
    public void Batched_product_gradients_equal_float64()
    {
        Require_onednn();
        torch.manual_seed(14);
        var a0 = torch.randn(2, 4, 72, 64);
        var b0 = torch.randn(2, 4, 64, 60);
        var g0 = torch.randn(2, 4, 72, 60);
        (Tensor ga, Tensor gb) Run(ScalarType dtype)
        {
            var a = a0.to(dtype).clone().requires_grad_(true);
            var b = b0.to(dtype).clone().requires_grad_(true);
            (a.matmul(b) * g0.to(dtype)).sum().backward();
            return (a.grad!, b.grad!);
        }
        var reference = Run(ScalarType.Float64);
        var ours = With(CpuMatmul.OneDnn, () => Run(ScalarType.Float32));
        AssertClose(reference.ga, ours.ga, "left gradient");
        AssertClose(reference.gb, ours.gb, "right gradient");
    }

    [Fact]
    public void Second_derivatives_flow_through_the_products()
    {
        Require_onednn();
        // d/dx of ‖∂(x·W)·g/∂W‖² involves the backward's own products (create_graph).
        torch.manual_seed(15);
        var x0 = torch.randn(80, 64);
        var w0 = torch.randn(64, 60);
        var g0 = torch.randn(80, 60);
        Tensor SecondOrder(ScalarType dtype)
        {
            var x = x0.to(dtype).clone().requires_grad_(true);
            var w = w0.to(dtype).clone().requires_grad_(true);
            (x.matmul(w) * g0.to(dtype)).sum().backward(create_graph: true);
            // x.grad now holds the first derivative; the second adds d‖∂y/∂W‖²/dx to it.
            w.grad!.pow(2).sum().backward();
            return x.grad!;
        }
        AssertClose(SecondOrder(ScalarType.Float64), With(CpuMatmul.OneDnn, () => SecondOrder(ScalarType.Float32)), "second derivative");
    }

    [Fact]
    public void Attention_on_onednn_equals_attention_on_blas()
    {
        Require_onednn();
        torch.manual_seed(16);
        // Grouped keys/values (8 query heads over 4), causal, as the training step runs it; and a padding mask.
        var q = torch.randn(2, 8, 96, 32);
        var k = torch.randn(2, 4, 96, 32);
        var v = torch.randn(2, 4, 96, 32);
        var mask = torch.ones([2, 1, 96, 96], ScalarType.Bool).tril();
        mask[0][0].narrow(1, 1, 2).fill_(0);   // the first sequence's positions 1-2 are padding
        foreach (var (m, causal) in new[] { ((Tensor?)null, true), (mask, false) })
        {
            var expected = With(CpuMatmul.Blas, () => F.scaled_dot_product_attention(q, k, v, m, 0, causal));
            var actual = With(CpuMatmul.OneDnn, () => F.scaled_dot_product_attention(q, k, v, m, 0, causal));
            Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-5), $"max |Δ| {(actual - expected).abs().max().item<float>()}");
        }
    }

    [Fact]
    public void The_switch_moves_products_and_reports_the_library()
    {
        Require_onednn();
        With(CpuMatmul.Blas, () =>
        {
            Assert.Equal(CpuMatmul.Blas, torch.cpu_matmul);
            Assert.Equal("BLAS", torch.cpu_matmul_name);
            Assert.False(torch.runs_on_onednn(1024, 512, 1376));
            return 0;
        });
        With(CpuMatmul.OneDnn, () =>
        {
            Assert.Equal(CpuMatmul.OneDnn, torch.cpu_matmul);
            Assert.StartsWith("oneDNN ", torch.cpu_matmul_name);
            // Products OpenBLAS would run on one thread (m·k·n ≤ 2¹⁸, one decoded token's attention) stay with ATen.
            Assert.True(torch.runs_on_onednn(65, 64, 64));
            Assert.False(torch.runs_on_onednn(64, 64, 64));
            Assert.False(torch.runs_on_onednn(2, 32, 64));
            Assert.False(torch.runs_on_onednn(0, 4096, 4096));
            // Other dtypes, empty products and mismatched shapes keep ATen's results and messages.
            var d = torch.randn(3, 4).to(ScalarType.Float64);
            Assert.Equal(ScalarType.Float64, d.mm(d.t()).dtype);
            Assert.Equal([3L, 0L], torch.randn(3, 4).mm(torch.randn(4, 0)).shape);
            Assert.Equal(0.0, torch.randn(3, 0).mm(torch.randn(0, 2)).abs().sum().item<float>());
            Assert.Equal([2L, 3L, 5L], F.linear(torch.randn(2, 3, 0), torch.randn(5, 0)).shape);
            Assert.Equal([0L, 5L], F.linear(torch.randn(0, 4), torch.randn(5, 4)).shape);
            Assert.Equal([2L, 3L, 5L], torch.randn(2, 3, 0).matmul(torch.randn(2, 0, 5)).shape);
            Assert.Equal([4L, 0L, 5L], torch.randn(4, 0, 7).matmul(torch.randn(7, 5)).shape);
            var error = Assert.Throws<TorchException>(() => torch.randn(3, 4).mm(torch.randn(5, 2)));
            Assert.Contains("mat1 and mat2 shapes cannot be multiplied", error.Message);
            return 0;
        });
        Assert.Throws<ArgumentOutOfRangeException>(() => torch.cpu_matmul = (CpuMatmul)7);
    }
}
