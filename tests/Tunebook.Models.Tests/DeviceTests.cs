using Tunebook.Models;
using Tunebook.Torch;

namespace Tunebook.Models.Tests;

/// <summary>Every architecture on <see cref="TestDevice.Current"/> (TUNEBOOK_TEST_DEVICE; CPU by default) gives the CPU's logits and greedy tokens.</summary>
public class DeviceTests
{
    [Theory]
    [MemberData(nameof(TinyModels.All), MemberType = typeof(TinyModels))]
    public void LogitsAndGreedyTokensOnTheTestDeviceMatchCpu(string kind)
    {
        using var scope = torch.NewDisposeScope();
        var device = TestDevice.Current;
        var model = TinyModels.Create(kind);
        // Left padding in the second row: the mask, positions and attention all take part.
        var ids = TinyModels.Ids([[5, 17, 33, 2, 9, 41], [0, 0, 7, 12, 60, 3]]);
        var mask = TinyModels.Ids([[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]]);
        Tensor expected;
        using (torch.no_grad()) expected = model.Forward(ids, mask);
        List<int[]> prompts = [[5, 17, 33, 2], [7, 12, 60]];
        var options = new GenerationOptions { MaxNewTokens = 6, DoSample = false, EosTokenIds = [] };
        var expectedTokens = model.Generate(prompts, options).Sequences.Select(s => s.TokenIds.ToArray()).ToList();

        model.to(device);
        Tensor actual;
        using (torch.no_grad()) actual = model.Forward(ids.to(device), mask.to(device));
        Assert.Equal(device, actual.device);
        using var diff = (actual.to(Device.CPU) - expected).abs().max();
        Assert.True(diff.item<double>() < 1e-4, $"{kind} on {device}: logits differ from CPU by {diff.item<double>()}");
        var actualTokens = model.Generate(prompts, options).Sequences.Select(s => s.TokenIds.ToArray()).ToList();
        for (int i = 0; i < prompts.Count; i++) Assert.Equal(expectedTokens[i], actualTokens[i]);
    }
}
