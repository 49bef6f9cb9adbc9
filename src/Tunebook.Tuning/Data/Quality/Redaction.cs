using System.Text.RegularExpressions;

namespace Tunebook.Tuning.Data.Quality;

/// <summary>
/// Replaces secrets and personal data by placeholders (&lt;SECRET&gt;, &lt;PRIVATE_KEY&gt;, &lt;EMAIL&gt;, &lt;PHONE&gt;,
/// &lt;IP_ADDRESS&gt;) in examples held in memory. It makes new examples; the file they were read from is never
/// written.
/// </summary>
public static class Redaction
{
    /// <summary>The examples of <paramref name="data"/> with every finding of <see cref="SensitiveData"/> replaced,
    /// and how many were replaced. A field longer than <paramref name="maxChars"/>, or whose scan times out, is left as
    /// it is (the checks name it as unchecked).</summary>
    public static (RawDataset Data, int Replaced) Apply(RawDataset data, int maxChars = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(data);
        var rows = new RawExample[data.Count];
        var counts = new int[data.Count];
        Parallel.For(0, data.Count, i =>
        {
            int replaced = 0;
            rows[i] = ExampleParts.Rewrite(data[i], (_, text) =>
            {
                if (text.Length > maxChars) return text;
                try
                {
                    var matches = SensitiveData.Find(text);
                    replaced += matches.Count;
                    return SensitiveData.Redact(text, matches);
                }
                catch (RegexMatchTimeoutException) { return text; }
            });
            counts[i] = replaced;
        });
        return (new RawDataset(data.Source, data.Format, rows, data.SkippedRows), counts.Sum());
    }
}
