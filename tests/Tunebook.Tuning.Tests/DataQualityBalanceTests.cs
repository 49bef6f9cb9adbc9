using System.Text.Json.Nodes;
using Tunebook.Tuning.Data;
using Tunebook.Tuning.Data.Quality;
using static Tunebook.Tuning.Tests.DataFixtures;

namespace Tunebook.Tuning.Tests;

/// <summary>Balance by a field or by script, and its warnings.</summary>
public class DataQualityBalanceTests
{
    static JsonObject Row(string text, string? category = null, string? source = null)
    {
        var o = new JsonObject { ["prompt"] = text, ["completion"] = " ok" };
        if (category is not null) o["category"] = category;
        if (source is not null) o["source"] = source;
        return o;
    }

    [Fact]
    public void Counts_per_value_of_the_usual_field_with_dominant_and_too_few_warnings()
    {
        var rows = Enumerable.Range(0, 30).Select(i => Row($"water question {i}", "watering"))
            .Concat(Enumerable.Range(0, 12).Select(i => Row($"schedule question {i}", "schedules")))
            .Concat(Enumerable.Range(0, 3).Select(i => Row($"billing question {i}", "billing"))).ToList();
        var balance = DataChecks.Run(Dataset.FromRecords(rows)).Balance;
        Assert.Equal("category", balance.Field);
        Assert.Equal([("watering", 30), ("schedules", 12), ("billing", 3)], balance.Counts.Select(c => (c.Value, c.Count)));
        Assert.Equal(2, balance.Warnings.Count);
        Assert.Contains("'category' watering holds 67% of the examples (30 of 45; above 50%)", balance.Warnings[0]);
        Assert.Contains("fewer than 10 examples, too few to learn from: billing (3)", balance.Warnings[1]);
    }

    [Fact]
    public void An_even_mix_has_no_warning_and_thresholds_come_from_the_options()
    {
        var rows = Enumerable.Range(0, 40).Select(i => Row($"q {i}", i % 2 == 0 ? "a" : "b")).ToList();
        Assert.Empty(DataChecks.Run(Dataset.FromRecords(rows)).Balance.Warnings);
        var strict = DataChecks.Run(Dataset.FromRecords(rows), options: new DataCheckOptions { MinPerValue = 25 }).Balance;
        Assert.Single(strict.Warnings);
    }

    [Fact]
    public void A_named_field_is_counted_and_rows_without_it_are_named()
    {
        var rows = new[] { Row("one", "x", "forum"), Row("two", "x", "forum"), Row("three", "y", "docs"), Row("four", "y") };
        var balance = DataChecks.Run(Dataset.FromRecords(rows), options: new DataCheckOptions { BalanceField = "source" }).Balance;
        Assert.Equal("source", balance.Field);
        Assert.Equal([("forum", 2), ("(none)", 1), ("docs", 1)], balance.Counts.Select(c => (c.Value, c.Count)));
        Assert.Contains(balance.Warnings, w => w == "1 examples have no 'source'");
    }

    [Fact]
    public void Without_a_field_the_mix_of_scripts_is_counted()
    {
        string[] latin = ["Where is the station?", "Où est la gare ?", "Wo ist der Bahnhof?"];
        string[] others = ["Где вокзал?", "火车站在哪里？", "أين المحطة؟", "駅はどこですか？", "역이 어디예요?", "1234 + 5678"];
        var rows = latin.Concat(others).Select(t => Row(t)).ToList();
        var balance = DataChecks.Run(Dataset.FromRecords(rows)).Balance;
        Assert.Null(balance.Field);
        var counts = balance.Counts.ToDictionary(c => c.Value, c => c.Count);
        // " ok" (the completion) is Latin, so it decides only where the prompt has no letters.
        Assert.Equal(4, counts["Latin"]);
        Assert.Equal(1, counts["Cyrillic"]);
        Assert.Equal(1, counts["Han"]);
        Assert.Equal(1, counts["Arabic"]);
        Assert.Equal(1, counts["Hiragana"]);   // 駅はどこですか: more kana than kanji
        Assert.Equal(1, counts["Hangul"]);
        Assert.Equal(9, counts.Values.Sum());
    }

    [Fact]
    public void The_sample_file_is_unbalanced_as_planted()
    {
        var balance = DataChecks.Run(Dataset.Load(Sample("checks.jsonl"))).Balance;
        Assert.Equal("category", balance.Field);
        Assert.Equal("watering", balance.Counts[0].Value);
        Assert.Equal(2, balance.Warnings.Count);
    }
}
