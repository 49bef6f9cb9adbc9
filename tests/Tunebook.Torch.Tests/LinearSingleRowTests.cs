using F = Tunebook.Torch.nn.functional;

namespace Tunebook.Torch.Tests;

/// <summary>
/// A linear layer applied to a single row (every decoding step of one sequence) runs as a matrix-vector
/// product on the CPU. Its result must be the row a many-row product gives, in every input layout, and
/// everything that is not one float row must keep the general path and its errors.
/// </summary>
public class LinearSingleRowTests
{
    [Theory]
    [InlineData(new long[] { 64 })]
    [InlineData(new long[] { 1, 64 })]
    [InlineData(new long[] { 1, 1, 64 })]
    public void One_row_equals_that_row_of_a_many_row_product(long[] shape)
    {
        torch.manual_seed(7);
        var weight = torch.randn(48, 64);
        var bias = torch.randn(48);
        var rows = torch.randn(5, 64);
        var expected = F.linear(rows, weight, bias)[2];

        var single = F.linear(rows[2].reshape(shape), weight, bias);

        Assert.Equal([.. shape[..^1], 48], single.shape);
        Assert.True(single.reshape(48).allclose(expected, rtol: 1e-5, atol: 1e-5),
            $"max |Δ| {(single.reshape(48) - expected).abs().max().item<float>()}");
        var withoutBias = F.linear(rows[2].reshape(shape), weight);
        Assert.True(withoutBias.reshape(48).allclose(expected - bias, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void A_transposed_weight_gives_the_same_row()
    {
        // GPT-2's Conv1D stores [in, out] and passes weight.t(): a non-contiguous weight.
        torch.manual_seed(8);
        var stored = torch.randn(32, 24);
        var x = torch.randn(1, 32);
        var expected = x.matmul(stored);
        Assert.True(F.linear(x, stored.t()).allclose(expected, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void Gradients_match_the_many_row_path()
    {
        torch.manual_seed(9);
        var weight = torch.randn(6, 5).requires_grad_(true);
        var bias = torch.randn(6).requires_grad_(true);
        var x = torch.randn(1, 5).requires_grad_(true);
        F.linear(x, weight, bias).square().sum().backward();
        var (gx, gw, gb) = (x.grad!.clone(), weight.grad!.clone(), bias.grad!.clone());

        // The same row padded with a zero row takes the general path; the zero row adds nothing but
        // its bias term, so take its share out of the bias gradient.
        var w2 = weight.detach().clone().requires_grad_(true);
        var b2 = bias.detach().clone().requires_grad_(true);
        var x2 = torch.cat([x.detach(), torch.zeros(1, 5)], 0).requires_grad_(true);
        var y2 = F.linear(x2, w2, b2);
        y2[0].square().sum().backward();
        Assert.True(gx.allclose(x2.grad![0].unsqueeze(0), rtol: 1e-5, atol: 1e-5));
        Assert.True(gw.allclose(w2.grad!, rtol: 1e-5, atol: 1e-5));
        Assert.True(gb.allclose(b2.grad!, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void Mismatched_features_still_fail_with_an_error()
    {
        var ex = Assert.ThrowsAny<Exception>(() => F.linear(torch.randn(1, 5), torch.randn(3, 4)));
        Assert.Contains("linear", ex.Message);
    }

    [Fact]
    public void Bfloat16_and_empty_inputs_keep_the_general_path()
    {
        torch.manual_seed(10);
        var weight = torch.randn(8, 4);
        var x = torch.randn(1, 4);
        var bf = F.linear(x.to(ScalarType.BFloat16), weight.to(ScalarType.BFloat16));
        Assert.Equal(ScalarType.BFloat16, bf.dtype);
        Assert.True(bf.to(ScalarType.Float32).allclose(F.linear(x, weight), rtol: 2e-2, atol: 5e-2));
        Assert.Equal([0, 8], F.linear(torch.randn(0, 4), weight).shape);
    }
}
