using Tunebook.Tuning.Training;

namespace Tunebook.Starter;

/// <summary>
/// A small seeded pseudo-random generator (xoshiro256** seeded through SplitMix64) whose sequence is fixed
/// by this file alone. System.Random's sequence for a seed is an implementation detail of .NET; the committed
/// datasets must come out byte-identical on every runtime, so the generators use this instead.
/// </summary>
public sealed class DeterministicRandom
{
    ulong _s0, _s1, _s2, _s3;

    /// <summary>Creates a generator whose whole sequence is determined by <paramref name="seed"/>.</summary>
    public DeterministicRandom(ulong seed)
    {
        _s0 = SplitMix64.Next(ref seed); _s1 = SplitMix64.Next(ref seed); _s2 = SplitMix64.Next(ref seed); _s3 = SplitMix64.Next(ref seed);
    }

    /// <summary>A generator started from an explicit xoshiro256** state (not all zero), e.g. to compare with the
    /// reference implementation's published outputs.</summary>
    public static DeterministicRandom FromState(ulong s0, ulong s1, ulong s2, ulong s3)
    {
        if ((s0 | s1 | s2 | s3) == 0) throw new ArgumentException("the xoshiro256** state must not be all zero");
        var r = new DeterministicRandom(0);
        (r._s0, r._s1, r._s2, r._s3) = (s0, s1, s2, s3);
        return r;
    }

    /// <summary>The next 64 uniformly distributed bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A uniform integer in [0, <paramref name="maxExclusive"/>).</summary>
    public int Next(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive), "must be positive");
        // Lemire's multiply-shift: unbiased enough for data generation and independent of the platform.
        return (int)(((NextUInt64() >> 32) * (ulong)maxExclusive) >> 32);
    }

    /// <summary>A uniform integer in [<paramref name="min"/>, <paramref name="maxExclusive"/>).</summary>
    public int Next(int min, int maxExclusive) => min + Next(maxExclusive - min);

    /// <summary>A uniform double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool Chance(double p) => NextDouble() < p;

    /// <summary>One element of <paramref name="items"/>, uniformly.</summary>
    public T Pick<T>(IReadOnlyList<T> items) =>
        items.Count == 0 ? throw new ArgumentException("cannot pick from an empty list", nameof(items)) : items[Next(items.Count)];

    /// <summary>A new list holding <paramref name="items"/> in a random order (Fisher–Yates).</summary>
    public List<T> Shuffle<T>(IEnumerable<T> items)
    {
        var list = items.ToList();
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
        return list;
    }

    /// <summary>A child generator for an independent stream, so adding draws in one part of a generator
    /// does not shift every later part.</summary>
    public DeterministicRandom Fork() => new(NextUInt64());
}
