using System.Security.Cryptography;
using Tunebook.Tuning.Data;

namespace Tunebook.Tuning.Runs;

/// <summary>SHA-256 digests of files and of prepared token ids: what a run record uses to say "the same input".</summary>
public static class FileDigest
{
    /// <summary>The lowercase hex SHA-256 of a file, read in streaming fashion (weights can be gigabytes).</summary>
    public static string Sha256(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>
    /// A SHA-256 over the prepared rows (input ids, labels, and for packed rows segment and position ids, each prefixed by its length), so two runs
    /// that tokenized, masked, truncated, split or packed the data differently have different fingerprints
    /// even when their files are the same.
    /// </summary>
    public static string Fingerprint(TrainingSet data)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var word = new byte[4];
        void Add(int value)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(word, value);
            hash.AppendData(word);
        }
        foreach (var row in data.Rows)
        {
            foreach (var ids in new[] { row.InputIds, row.Labels, row.SegmentIds ?? [], row.PositionIds ?? [] })
            {
                Add(ids.Length);
                foreach (var id in ids) Add(id);
            }
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
