using Tunebook.Tuning.Data.Quality;

namespace Tunebook.Tuning.Tests;

/// <summary>MinHash against exact Jaccard similarity, and near-duplicate clusters on constructed data.</summary>
public class DataQualitySimilarityTests
{
    /// <summary>Exact Jaccard similarity of the character shingle sets, computed directly on the strings.</summary>
    static double ExactJaccard(string a, string b, int k = 5)
    {
        static HashSet<string> Set(string s, int k) =>
            s.Length < k ? [s] : Enumerable.Range(0, s.Length - k + 1).Select(i => s.Substring(i, k)).ToHashSet();
        var x = Set(ExampleParts.Normalize(a), k);
        var y = Set(ExampleParts.Normalize(b), k);
        return (double)x.Intersect(y).Count() / x.Union(y).Count();
    }

    /// <summary>2,000 made-up words of 3 to 8 letters: unrelated texts share few shingles, as in real data.</summary>
    static readonly string[] Words = MakeWords();

    static string[] MakeWords()
    {
        var rng = new Random(11);
        return Enumerable.Range(0, 2000).Select(_ => new string(Enumerable.Range(0, rng.Next(3, 9)).Select(_ => (char)('a' + rng.Next(26))).ToArray())).ToArray();
    }

    static string RandomText(Random rng, int words) => string.Join(' ', Enumerable.Range(0, words).Select(_ => Words[rng.Next(Words.Length)]));

    /// <summary>A copy of <paramref name="text"/> with a share of its words replaced.</summary>
    static string Mutate(Random rng, string text, double share)
    {
        var w = text.Split(' ');
        for (int i = 0; i < w.Length; i++) if (rng.NextDouble() < share) w[i] = Words[rng.Next(Words.Length)];
        return string.Join(' ', w);
    }

    [Fact]
    public void MinHash_estimate_is_close_to_exact_jaccard_over_random_pairs()
    {
        var rng = new Random(7);
        var minHash = new MinHash(5);
        var errors = new List<double>();
        var exacts = new List<double>();
        for (int n = 0; n < 300; n++)
        {
            string a = RandomText(rng, rng.Next(8, 60));
            string b = Mutate(rng, a, rng.NextDouble());
            double exact = ExactJaccard(a, b);
            double estimate = MinHash.Similarity(minHash.Signature(ExampleParts.Normalize(a))!, minHash.Signature(ExampleParts.Normalize(b))!);
            errors.Add(Math.Abs(estimate - exact));
            exacts.Add(exact);
        }
        // The pairs span the whole range, so the bound is tested where it matters (around the 0.8 threshold too).
        Assert.True(exacts.Count(j => j < 0.3) > 30 && exacts.Count(j => j is > 0.6 and < 0.95) > 30, "pairs do not span the range");
        // Standard error is at most 0.046 with 120 hashes: the worst of 300 stays within ~3.5 of them, the mean near 0.8 σ.
        Assert.True(errors.Max() <= 0.16, $"largest error {errors.Max():0.###}");
        Assert.True(errors.Average() <= 0.035, $"mean error {errors.Average():0.###}");
    }

    [Fact]
    public void MinHash_of_equal_texts_after_normalising_is_equal_and_empty_text_has_none()
    {
        var minHash = new MinHash(5);
        Assert.Equal(minHash.Signature(ExampleParts.Normalize("How do I  water\nthe ROSES?")), minHash.Signature(ExampleParts.Normalize("how do i water the roses?")));
        Assert.Null(minHash.Signature(ExampleParts.Normalize("  \n ")));
        Assert.Equal(1.0, MinHash.Similarity(minHash.Signature("ab")!, minHash.Signature("ab")!));   // shorter than a shingle: one shingle
    }

    [Fact]
    public void Near_duplicate_clusters_have_the_constructed_sizes_and_their_first_member_as_representative()
    {
        var rng = new Random(3);
        var texts = new List<string>();
        var expected = new List<int[]>();
        // Three groups of near-copies (sizes 5, 3, 2) among 60 unrelated texts, interleaved.
        foreach (var size in new[] { 5, 3, 2 })
        {
            string original = RandomText(rng, 30);
            var members = new List<int>();
            for (int k = 0; k < size; k++)
            {
                members.Add(texts.Count);
                // Case, spacing and one changed character: near-copies, not exact ones (except after normalising case).
                string copy = k == 0 ? original : (k % 2 == 0 ? original.ToUpperInvariant() : original).Replace(" ", k == 1 ? "  " : " ") + (k > 1 ? $" {k}" : ".");
                texts.Add(copy);
                for (int u = 0; u < 20 / size; u++) texts.Add(RandomText(rng, 30));
            }
            expected.Add(members.ToArray());
        }
        while (texts.Count < 80) texts.Add(RandomText(rng, 30));
        // The premise: members are alike above the threshold, unrelated texts far below it.
        foreach (var c in expected) foreach (var m in c.Skip(1)) Assert.True(ExactJaccard(texts[c[0]], texts[m]) > 0.9);
        var outside = Enumerable.Range(0, texts.Count).Except(expected.SelectMany(c => c)).ToList();
        Assert.True(outside.Skip(1).All(i => ExactJaccard(texts[outside[0]], texts[i]) < 0.6));

        var minHash = new MinHash(5);
        var clusters = NearDuplicates.Cluster(texts.Select(t => minHash.Signature(ExampleParts.Normalize(t))).ToList(), 0.8);
        Assert.Equal(expected.Select(c => string.Join(",", c)).Order(), clusters.Select(c => string.Join(",", c)).Order());
    }

    [Fact]
    public void A_thousand_identical_texts_are_one_cluster()
    {
        var minHash = new MinHash(5);
        var same = minHash.Signature("run puddle zone list to see every zone");
        var other = minHash.Signature("a completely different sentence about valves");
        var signatures = Enumerable.Repeat(same, 1000).Append(other).Append(null).ToList();
        var cluster = Assert.Single(NearDuplicates.Cluster(signatures, 0.8));
        Assert.Equal(Enumerable.Range(0, 1000), cluster);
    }
}
