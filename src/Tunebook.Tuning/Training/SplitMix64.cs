namespace Tunebook.Tuning.Training;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood, 2014): a 64-bit state advanced by a fixed odd constant and
/// scrambled into each output. Tiny, fast, and its sequence is fixed by these lines alone (unlike
/// System.Random's, an implementation detail of .NET), so data orders and generated datasets come
/// out the same on every runtime.
/// </summary>
public static class SplitMix64
{
    /// <summary>Advances <paramref name="state"/> and returns the next 64 uniformly distributed bits.</summary>
    public static ulong Next(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
