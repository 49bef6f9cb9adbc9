namespace Tunebook.Tuning.Data.Quality;

/// <summary>
/// MinHash signatures of character shingles. The Jaccard similarity of two shingle sets |A ∩ B| / |A ∪ B| is the
/// probability that one random hash function has its minimum over A and over B at the same shingle; a signature
/// keeps the minimum of <see cref="Hashes"/> such functions, so the share of equal positions of two signatures
/// estimates the similarity (standard error √(J(1−J)/120) ≤ 0.046) without keeping the sets.
/// </summary>
public sealed class MinHash
{
    /// <summary>Hash functions per signature (<see cref="Bands"/> × <see cref="Rows"/>).</summary>
    public const int Hashes = Bands * Rows;
    /// <summary>Bands for locality-sensitive hashing: two texts become candidates when all rows of one band agree.</summary>
    public const int Bands = 20;
    /// <summary>Signature positions per band. With 20 bands of 6, a pair of similarity 0.8 is a candidate with
    /// probability 1 − (1 − 0.8⁶)²⁰ = 99.8%, of 0.7 with 92%, of 0.3 with 1.4%.</summary>
    public const int Rows = 6;

    readonly ulong[] multipliers = new ulong[Hashes], offsets = new ulong[Hashes];

    /// <summary>Hash functions drawn from <paramref name="seed"/> (the same seed gives the same signatures).</summary>
    public MinHash(int shingleSize, int seed = 1)
    {
        if (shingleSize < 1) throw new ArgumentOutOfRangeException(nameof(shingleSize), shingleSize, "a shingle has at least 1 character");
        ShingleSize = shingleSize;
        var rng = new Random(seed);
        for (int i = 0; i < Hashes; i++)
        {
            // Multiply-shift hashing: an odd multiplier and an offset, keeping the high 32 bits of the product.
            multipliers[i] = (ulong)rng.NextInt64() << 1 | 1;
            offsets[i] = (ulong)rng.NextInt64();
        }
    }

    /// <summary>Characters per shingle.</summary>
    public int ShingleSize { get; }

    /// <summary>
    /// The 64-bit hashes of the shingles of <paramref name="normalized"/>: every run of <see cref="ShingleSize"/>
    /// characters (a shorter text is one shingle). Empty for an empty text.
    /// </summary>
    public IEnumerable<ulong> Shingles(string normalized)
    {
        if (normalized.Length == 0) yield break;
        int k = Math.Min(ShingleSize, normalized.Length);
        for (int start = 0; start + k <= normalized.Length; start++) yield return HashOf(normalized.AsSpan(start, k));
    }

    /// <summary>The signature of <paramref name="normalized"/>, or null for an empty text (nothing to compare).</summary>
    public uint[]? Signature(string normalized)
    {
        if (normalized.Length == 0) return null;
        var signature = new uint[Hashes];
        Array.Fill(signature, uint.MaxValue);
        int k = Math.Min(ShingleSize, normalized.Length);
        for (int start = 0; start + k <= normalized.Length; start++)
        {
            ulong x = HashOf(normalized.AsSpan(start, k));
            for (int i = 0; i < Hashes; i++)
            {
                uint h = (uint)((multipliers[i] * x + offsets[i]) >> 32);
                if (h < signature[i]) signature[i] = h;
            }
        }
        return signature;
    }

    /// <summary>The estimated Jaccard similarity of the texts of two signatures: the share of equal positions.</summary>
    public static double Similarity(uint[] a, uint[] b)
    {
        int equal = 0;
        for (int i = 0; i < Hashes; i++) if (a[i] == b[i]) equal++;
        return (double)equal / Hashes;
    }

    /// <summary>The key of band <paramref name="band"/> of a signature: a hash of its <see cref="Rows"/> positions.</summary>
    public static ulong BandKey(uint[] signature, int band)
    {
        ulong h = 14695981039346656037UL ^ (ulong)band;
        for (int i = band * Rows; i < (band + 1) * Rows; i++) h = (h ^ signature[i]) * 1099511628211UL;
        return h;
    }

    /// <summary>FNV-1a over the characters, then a final mix so that similar shingles spread over all 64 bits.</summary>
    static ulong HashOf(ReadOnlySpan<char> shingle)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in shingle) h = (h ^ c) * 1099511628211UL;
        h ^= h >> 33; h *= 0xff51afd7ed558ccdUL; h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53UL; h ^= h >> 33;
        return h;
    }
}
