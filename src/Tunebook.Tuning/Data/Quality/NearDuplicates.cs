namespace Tunebook.Tuning.Data.Quality;

/// <summary>
/// Clusters of near-identical texts among MinHash signatures. Locality-sensitive hashing proposes candidates (texts
/// whose signatures agree on all rows of some band), each candidate pair is verified by its estimated similarity,
/// and verified pairs are joined by union-find. Clusters are therefore connected components: a chain A≈B≈C
/// makes one cluster even when A and C are less alike than the threshold.
/// </summary>
public static class NearDuplicates
{
    /// <summary>
    /// The clusters (two or more members) of the texts whose signatures are given; null signatures (empty texts)
    /// belong to none. Each cluster lists member positions in ascending order, so the first is the earliest.
    /// </summary>
    public static List<int[]> Cluster(IReadOnlyList<uint[]?> signatures, double threshold)
    {
        int n = signatures.Count;
        var parent = new int[n];
        for (int i = 0; i < n; i++) parent[i] = i;
        int Find(int x)
        {
            while (parent[x] != x) { parent[x] = parent[parent[x]]; x = parent[x]; }
            return x;
        }

        // One band at a time, so the only memory beyond the signatures is one (key, position) array.
        var keyed = new (ulong Key, int Position)[n];
        var group = new List<int>();
        var rest = new List<int>();
        for (int band = 0; band < MinHash.Bands; band++)
        {
            int m = 0;
            for (int i = 0; i < n; i++) if (signatures[i] is { } s) keyed[m++] = (MinHash.BandKey(s, band), i);
            Array.Sort(keyed, 0, m);
            for (int start = 0; start < m;)
            {
                int end = start + 1;
                while (end < m && keyed[end].Key == keyed[start].Key) end++;
                if (end - start > 1)
                {
                    group.Clear();
                    for (int j = start; j < end; j++) group.Add(keyed[j].Position);
                    JoinBucket(group, rest, signatures, threshold, Find, parent);
                }
                start = end;
            }
        }

        var members = new Dictionary<int, List<int>>();
        for (int i = 0; i < n; i++)
        {
            if (signatures[i] is null) continue;
            int root = Find(i);
            if (!members.TryGetValue(root, out var list)) members[root] = list = [];
            list.Add(i);
        }
        return members.Values.Where(l => l.Count > 1).Select(l => l.Order().ToArray()).OrderBy(c => c[0]).ToList();
    }

    /// <summary>
    /// Verifies the members of one bucket against a pivot at a time: each member is compared with the first one not
    /// yet placed, joined when similar enough, kept for the next round otherwise. Members already in the pivot's
    /// cluster are not compared again, so a bucket of a thousand copies costs a thousand comparisons, not half a million.
    /// </summary>
    static void JoinBucket(List<int> group, List<int> rest, IReadOnlyList<uint[]?> signatures, double threshold, Func<int, int> find, int[] parent)
    {
        while (group.Count > 1)
        {
            int pivot = group[0];
            rest.Clear();
            for (int j = 1; j < group.Count; j++)
            {
                int other = group[j];
                int a = find(pivot), b = find(other);
                if (a == b) continue;
                if (MinHash.Similarity(signatures[pivot]!, signatures[other]!) >= threshold) parent[Math.Max(a, b)] = Math.Min(a, b);
                else rest.Add(other);
            }
            (group, rest) = (rest, group);
        }
    }
}
