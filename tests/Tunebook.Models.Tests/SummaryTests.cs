using Tunebook.Models;
using Tunebook.Torch;

namespace Tunebook.Models.Tests;

public class SummaryTests
{
    [Fact]
    public void SummaryCountsParametersAndDescribesTheModel()
    {
        using var model = TinyModels.Create("llama3-rope");
        var s = model.Summary();
        // Count by hand from the config: embed, lm_head, final norm, per layer q,k,v,o, gate,up,down, 2 norms.
        long H = 32, V = 97, I = 48, kv = 2 * 8;
        long perLayer = H * H + 2 * kv * H + H * H + 3 * H * I + 2 * H;
        Assert.Equal(V * H * 2 + H + 2 * perLayer, s.Parameters);
        Assert.Equal(s.Parameters, s.TrainableParameters);
        Assert.Equal(s.Parameters * 4, s.ParameterBytes);
        Assert.Equal(2, s.KeyValueHeads);
        Assert.Equal(ScalarType.Float32, s.DType);
        var text = s.ToString();
        Assert.Contains("LlamaForCausalLM", text);
        Assert.Contains("grouped-query", text);
        Assert.Equal(s.Rows().Count, text.Split('\n').Length);
        model.requires_grad_(false);
        Assert.Equal(0, model.Summary().TrainableParameters);
    }

    [Theory]
    [InlineData(135_000_000L, "135M")]
    [InlineData(1_230_000_000L, "1.23B")]
    [InlineData(12_345L, "12.35K")]
    public void CountsAreShort(long n, string expected) => Assert.Equal(expected, ModelSummary.FormatCount(n));
}
