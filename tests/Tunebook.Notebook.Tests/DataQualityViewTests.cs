using System.Security.Cryptography;
using Tunebook.Interactive;
using Tunebook.Notebook.Displays;
using Tunebook.Notebook.Magics;
using Tunebook.Tuning.Data.Quality;

namespace Tunebook.Notebook.Tests;

/// <summary>The data checks as #!data and Tune.LoadData show them, on the sample file made for them.</summary>
public class DataQualityViewTests
{
    const string Sample = "datasets/samples/checks.jsonl", HeldOut = "datasets/samples/checks.heldout.jsonl";

    [Fact]
    public void Data_magic_binds_the_check_options_with_defaults_from_one_place()
    {
        var o = (DataOptions)MagicParser.Parse(NotebookExtension.Magics.Single(m => m.Name == "data"),
            $"load {Sample} --heldout {HeldOut} --redact --drop-leaks --dedupe --balance source --near 0.9");
        var checks = o.Checks();
        Assert.Equal((HeldOut, true, true, true, "source", 0.9), (o.HeldOut, checks.Redact, checks.DropLeaks, checks.Dedupe, checks.BalanceField, checks.NearThreshold));
        var plain = (DataOptions)MagicParser.Parse(NotebookExtension.Magics.Single(m => m.Name == "data"), $"load {Sample}");
        Assert.Equal(DataCheckOptions.Default, plain.Checks());
    }

    [Fact]
    public void Load_data_reports_every_check_on_the_sample_and_the_view_shows_each_section()
    {
        var file = Tune.RepoPath(Sample)!;
        var before = SHA256.HashData(File.ReadAllBytes(file));
        var data = Tune.LoadData(Sample, TinyModel.Tokenizer, val: 0.2, maxLength: 128, heldout: HeldOut,
            checks: DataCheckOptions.Default with { Redact = true, DropLeaks = true, Dedupe = true });
        var q = data.Report.Quality!;
        Assert.Equal(2, q.Leakage.HeldOut);
        Assert.NotEmpty(q.NearDuplicates.Clusters);
        Assert.Equal(4, q.Sensitive.Total);
        Assert.Equal(4, q.Sensitive.Redacted);
        Assert.Equal("category", q.Balance.Field);
        // Every leaking training example and every cluster member after the first is dropped, each counted once.
        var dropped = q.Leakage.LeakingTrainIndices.Union(q.NearDuplicates.Clusters.SelectMany(c => c.Members.Skip(1))).ToHashSet();
        Assert.True(q.Leakage.LeakingTrainIndices.Count >= 2);
        Assert.Equal(dropped.Count, q.LeaksDropped + q.DuplicatesDropped);
        Assert.DoesNotContain(data.Train.Examples, e => dropped.Contains(e.SourceIndex));
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(file)));
        Assert.DoesNotContain(data.Train.Examples, e => e.Text.Contains("fernhollow", StringComparison.Ordinal));

        var html = Tune.Report(data, TinyModel.Tokenizer).ToMimeBundle()["text/html"]!;
        HtmlCheck.WellFormed(html);
        foreach (var heading in new[] { "Leakage: ", "Near-duplicates: ", "Secrets and personal data: 4 findings, 4 replaced", "Balance by field &#39;category&#39;" })
            Assert.Contains(heading, html);
        Assert.Contains("ana.moreau@fernhollow-gardens.net", html);            // personal data is shown so the user can judge it
        Assert.DoesNotContain("FAKE4DEMO", html);                              // a secret is not spread further
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(html, "<svg").Count);   // token lengths and balance

        var leakage = new DataQualityView(q, QualitySection.Leakage);
        HtmlCheck.WellFormed(leakage.ToMimeBundle()["text/html"]!);
        Assert.StartsWith("leakage (exact, or near at similarity ≥ 0.8): ", leakage.ToString());
        Assert.DoesNotContain("near-duplicates", leakage.ToMimeBundle()["text/html"]!);
        Assert.Equal(4, new DataQualityView(q, QualitySection.Sensitive).ToString().Split('\n').Length - 1);
    }
}
