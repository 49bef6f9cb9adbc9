using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Tests;

/// <summary>The one SplitMix64, against the reference outputs, and the epoch orders that resumed runs and committed results rely on.</summary>
public class SplitMix64Tests
{
    [Fact]
    public void Outputs_from_state_zero_match_the_reference_implementation()
    {
        // splitmix64.c (prng.di.unimi.it) seeded with 0.
        ulong state = 0;
        Assert.Equal(0xE220A8397B1DCDAFUL, SplitMix64.Next(ref state));
        Assert.Equal(0x6E789E6AA1B965F4UL, SplitMix64.Next(ref state));
        Assert.Equal(0x06C45D188009454FUL, SplitMix64.Next(ref state));
        Assert.Equal(0xF88BB8A8724C81ECUL, SplitMix64.Next(ref state));
        Assert.Equal(unchecked(4 * 0x9E3779B97F4A7C15UL), state);
    }

    [Theory]
    // Computed by an independent Python transcription of the same shuffle (seed·φ + epoch·c + d, then
    // Fisher–Yates with SplitMix64 draws mod i+1): any change here would reorder resumed runs.
    [InlineData(42, 0, new[] { 6, 9, 10, 8, 3, 5, 2, 4, 0, 1, 7, 11 })]
    [InlineData(42, 3, new[] { 6, 10, 2, 8, 9, 0, 3, 1, 4, 11, 7, 5 })]
    [InlineData(-7, 1, new[] { 10, 7, 9, 2, 8, 6, 0, 5, 11, 1, 4, 3 })]
    public void Epoch_orders_are_unchanged(long seed, int epoch, int[] expected)
    {
        Assert.Equal(expected, DataOrder.ForEpoch(12, seed, epoch, shuffle: true));
        Assert.Equal(Enumerable.Range(0, 12), DataOrder.ForEpoch(12, seed, epoch, shuffle: false));
    }
}
