using F = Tunebook.Torch.nn.functional;

namespace Tunebook.Torch.Tests;

/// <summary>
/// Grouped-query attention where every query row sees the same keys (one-token decoding, padding masks,
/// no mask) folds the query heads of each key/value head into the query length instead of repeating the
/// keys and values. It must give what repeating gives: the composed formula, which always repeats.
/// </summary>
public class GroupedQueryAttentionTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(5, false)]
    public void Folded_heads_equal_repeated_keys_and_values(long queries, bool paddingMask)
    {
        torch.manual_seed(21);
        var q = torch.randn(2, 6, queries, 8);
        var k = torch.randn(2, 2, 7, 8);
        var v = torch.randn(2, 2, 7, 8);
        Tensor? mask = paddingMask ? torch.tensor(new bool[] { false, false, true, true, true, true, true, true, true, true, true, true, true, true }, [2, 1, 1, 7]) : null;

        var folded = F.scaled_dot_product_attention(q, k, v, mask);
        var repeated = F.scaled_dot_product_attention_composed(q, k, v, mask);

        Assert.Equal(q.shape, folded.shape);
        Assert.True(folded.allclose(repeated, 1e-5, 1e-6), $"max |Δ| {(folded - repeated).abs().max().item<float>()}");
    }

    [Fact]
    public void Queries_transposed_from_the_projection_layout_fold_correctly()
    {
        // Models produce q as [B, T, heads, E] viewed and transposed to [B, heads, T, E]: not contiguous.
        torch.manual_seed(22);
        var q = torch.randn(1, 1, 8, 4).transpose(1, 2);
        var k = torch.randn(1, 2, 5, 4);
        var v = torch.randn(1, 2, 5, 4);
        Assert.True(F.scaled_dot_product_attention(q, k, v).allclose(F.scaled_dot_product_attention_composed(q, k, v), 1e-5, 1e-6));
    }

    [Fact]
    public void A_mask_per_query_row_keeps_the_repeated_path_and_its_result()
    {
        torch.manual_seed(23);
        var q = torch.randn(1, 4, 3, 4);
        var k = torch.randn(1, 2, 3, 4);
        var v = torch.randn(1, 2, 3, 4);
        var rows = torch.ones([3, 3], ScalarType.Bool).tril().unsqueeze(0).unsqueeze(0);
        Assert.True(F.scaled_dot_product_attention(q, k, v, rows).allclose(F.scaled_dot_product_attention_composed(q, k, v, rows), 1e-5, 1e-6));
        Assert.True(F.scaled_dot_product_attention(q, k, v, is_causal: true).allclose(F.scaled_dot_product_attention_composed(q, k, v, is_causal: true), 1e-5, 1e-6));
    }
}
