using System.Text;
using System.Text.Json.Nodes;
using Tunebook.Tuning.Data;
using Tunebook.Tuning.Data.Quality;
using static Tunebook.Tuning.Tests.DataFixtures;

namespace Tunebook.Tuning.Tests;

/// <summary>Files checked as they stream, with bounded memory; rows a check cannot run on are named. Alone in its
/// collection, without parallel tests: live memory is measured for the whole process.</summary>
[Collection(MemoryCollection.Name)]
public class DataQualityStreamingTests
{
    [Fact]
    public void Unreadable_rows_are_named_and_the_rest_is_checked()
    {
        var path = Write("mixed.jsonl", string.Join("\n",
            """{"prompt": "first question about valves", "completion": "fine"}""",
            """{"prompt": "broken", "completion": """,
            """{"prompt": "no completion here"}""",
            """[1, 2, 3]""",
            """{"prompt": "who to call", "completion": "mail ana.moreau@fernhollow-gardens.net"}""") + "\n");
        var report = DataChecks.CheckFile(path);
        Assert.Equal([2, 3, 4], report.Unchecked.Select(u => u.Location.Line!.Value));
        Assert.Contains("not valid JSON", report.Unchecked[0].Reason);
        Assert.Equal("field 'completion' is missing", report.Unchecked[1].Reason);
        Assert.Equal("is not a JSON object", report.Unchecked[2].Reason);
        var finding = Assert.Single(report.Sensitive.Findings);
        Assert.Equal((5, "completion"), (finding.Location.Line!.Value, finding.Field));
        Assert.Equal(2, report.NearDuplicates.Checked);
        Assert.Contains(report.Warnings, w => w.StartsWith("3 rows could not be checked", StringComparison.Ordinal));
    }

    [Fact]
    public void A_field_beyond_the_scan_bound_names_its_row_and_the_check_goes_on()
    {
        var checks = new DataChecks(new DataCheckOptions { MaxScanChars = 1_000 });
        var rows = Dataset.FromRecords([
            new JsonObject { ["text"] = "call +44 20 7946 0958 " + new string('x', 2_000) },
            new JsonObject { ["text"] = "mail ana.moreau@fernhollow-gardens.net" },
        ], source: "rows");
        foreach (var e in rows) checks.AddTraining(e);
        var report = checks.Finish();
        var row = Assert.Single(report.Unchecked);
        Assert.Equal("rows [0]: secrets and personal data not checked: field 'text' is longer than 1,000 characters", row.ToString());
        var finding = Assert.Single(report.Sensitive.Findings);
        Assert.Equal((1, SensitiveData.Email), (finding.Index, finding.Kind));
    }

    [Fact]
    public void Memory_stays_bounded_on_a_file_much_larger_than_the_bound()
    {
        // 60,000 rows of ~290 bytes (~17 MB of JSON, ~35 MB as .NET strings). The near-duplicate bound is 2,000 examples
        // and findings are capped at 100, so what the checks keep is a few MB however long the file is.
        var path = Path.Combine(Tunebook.Tuning.Tests.Tiny.TempDir(), "big.jsonl");
        var rng = new Random(5);
        using (var w = new StreamWriter(path))
            for (int i = 0; i < 60_000; i++)
            {
                string words = string.Join(' ', Enumerable.Range(0, 40).Select(_ => (char)('a' + rng.Next(26)) + "" + rng.Next(1000)));
                w.WriteLine(new JsonObject { ["prompt"] = $"question {i}: {words}", ["completion"] = $"answer {i} mail user{i}@fernhollow-gardens.net" }.ToJsonString());
            }
        long fileBytes = new FileInfo(path).Length;
        Assert.True(fileBytes > 16_000_000, $"file is {fileBytes} bytes");

        var options = new DataCheckOptions { MaxNearDuplicateExamples = 2_000, MaxFindings = 100 };
        // Warm up first (compiled patterns, thread pool), so the baseline holds what any run holds.
        var warm = new DataChecks(options);
        foreach (var (example, _) in DataChecks.StreamJsonLines(path).Take(3_000)) warm.AddTraining(example!);
        warm.Finish();
        var checks = new DataChecks(options);
        long baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = 0;
        int n = 0;
        foreach (var (example, problem) in DataChecks.StreamJsonLines(path))
        {
            checks.AddTraining(example!);
            if (++n % 10_000 == 0) peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true) - baseline);
        }
        var report = checks.Finish();
        Assert.Equal(60_000, n);
        Assert.Equal(2_000, report.NearDuplicates.Checked);
        Assert.Equal(58_000, report.NearDuplicates.NotChecked);
        Assert.Equal(60_000, report.Sensitive.Total);
        Assert.Equal(100, report.Sensitive.Findings.Count);
        // Live memory while streaming stays under 8 MB: under half the file's bytes, a small share of it loaded whole.
        Assert.True(peak < 8_000_000, $"peak live memory above the baseline: {peak:N0} bytes for a {fileBytes:N0}-byte file");
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryCollection
{
    public const string Name = "memory measured for the whole process";
}
