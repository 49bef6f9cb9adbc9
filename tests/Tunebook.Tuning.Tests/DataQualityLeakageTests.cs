using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Tunebook.Tuning.Data;
using Tunebook.Tuning.Data.Quality;
using static Tunebook.Tuning.Tests.DataFixtures;

namespace Tunebook.Tuning.Tests;

/// <summary>Leakage of training examples into validation and held-out examples, and dropping them from training.</summary>
public class DataQualityLeakageTests
{
    static JsonObject Alpaca(string instruction, string output) => new() { ["instruction"] = instruction, ["input"] = "", ["output"] = output };

    static readonly string[] Zones = ["roses", "ferns", "lawn", "herbs", "tomatoes", "hedge", "orchard", "lilies", "moss", "bamboo"];

    /// <summary>Templated questions that differ in a zone and a number: alike, but none is a copy of another.</summary>
    static List<JsonObject> Templated() => Zones.Select((z, i) => Alpaca($"How do I water the {z} zone for {5 + i} minutes?", $"Run `puddle water {z} --minutes {5 + i}`.")).ToList();

    [Fact]
    public void Planted_exact_and_near_leaks_are_found_and_templated_neighbours_are_not()
    {
        var records = Templated();
        records.Add(Alpaca("How do I check whether the orchard valve is open right now, and how long it has been open?", "Run `puddle valve status orchard`."));    // 10: near leak of validation 12
        records.Add(Alpaca("what would I type to water the ROSES  zone every morning?", "Run `puddle schedule add roses --at 07:00`."));   // 11: exact leak of 13
        records.Add(Alpaca("How do I check whether the orchard valve is open right now, and for how long it has been open?", "It is shown by `puddle valve status orchard --verbose`, with the time it opened.")); // 12 (validation)
        records.Add(Alpaca("What would I type to water the roses zone every morning?", "Use the scheduler."));                       // 13 (validation)
        records.Add(Alpaca("How do I water the peppers zone for 30 minutes?", "Yes."));                                             // 14 (validation): templated, not a copy
        var data = Dataset.FromRecords(records);
        var report = DataChecks.Run(data, validationIndices: [12, 13, 14]).Leakage;

        Assert.Equal(3, report.ValidationChecked);
        Assert.Equal(2, report.Validation);
        var exact = report.Pairs.Single(p => p.Index == 13);
        Assert.True(exact.Exact);
        Assert.Equal((11, "prompt", 1.0), (exact.TrainIndex, exact.Part, exact.Similarity));
        var near = report.Pairs.Single(p => p.Index == 12);
        Assert.False(near.Exact);
        Assert.Equal((10, "prompt"), (near.TrainIndex, near.Part));
        Assert.InRange(near.Similarity, 0.8, 0.99);
        Assert.Equal([10, 11], report.LeakingTrainIndices);
        Assert.Equal(13, report.Pairs[0].Index);       // exact copies first: the worst pairs lead
        Assert.DoesNotContain(report.Pairs, p => p.Index == 14);
    }

    [Fact]
    public void Short_answers_in_both_splits_are_not_leaks()
    {
        var data = Dataset.FromRecords([Alpaca("Is the lawn zone on?", "Yes."), Alpaca("Is the moss zone watered daily?", "Yes.")]);
        Assert.Empty(DataChecks.Run(data, validationIndices: [1]).Leakage.Pairs);
    }

    [Fact]
    public void Held_out_file_leaks_are_found_in_the_sample_file()
    {
        var heldOut = Dataset.Load(Sample("checks.heldout.jsonl"));
        var report = DataChecks.Run(Dataset.Load(Sample("checks.jsonl")), heldOut: heldOut).Leakage;
        Assert.Equal(5, report.HeldOutChecked);
        Assert.Equal(2, report.HeldOut);
        // Held-out question 0 is in training with other case and spacing; question 1 with one phrase changed.
        Assert.Equal([0, 1], report.Pairs.Select(p => p.Index).Order());
        Assert.True(report.Pairs.Single(p => p.Index == 0).Exact);
        Assert.Contains(report.Pairs, p => p.Index == 1 && !p.Exact && p.Part == "prompt");
    }

    [Fact]
    public void Drop_leaks_leaves_them_out_of_training_keeps_the_validation_split_and_never_writes_the_file()
    {
        var path = Write("leaky.jsonl", Lines([.. Templated(),
            Alpaca("Where is the main valve of the garden?", "Behind the shed, under the green lid."),
            Alpaca("where is the main valve of the garden?", "Behind the shed, under the green lid.")]));
        var before = SHA256.HashData(File.ReadAllBytes(path));
        var raw = Dataset.Load(path);
        var options = new PrepareOptions { ValCount = 4, MaxLength = 256 };
        var plain = raw.PrepareChecked(Qwen, options: options);
        var dropped = raw.PrepareChecked(Qwen, options: options, checks: new DataCheckOptions { DropLeaks = true });

        Assert.Equal(plain.Validation!.Examples.Select(e => e.SourceIndex), dropped.Validation!.Examples.Select(e => e.SourceIndex));
        var leaks = plain.Report.Quality!.Leakage.LeakingTrainIndices;
        Assert.Equal(leaks.Count, dropped.Report.Quality!.LeaksDropped);
        Assert.Equal(plain.Train.Examples.Count - leaks.Count, dropped.Train.Examples.Count);
        Assert.Equal(dropped.Train.Examples.Count, dropped.Report.TrainExamples);
        Assert.DoesNotContain(dropped.Train.Examples, e => leaks.Contains(e.SourceIndex));
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(path)));
        // Whether the two copies of the valve question fell on both sides depends on the seeded split; if they did, it is a leak.
        bool split = plain.Validation.Examples.Any(e => e.SourceIndex >= 10) && plain.Train.Examples.Any(e => e.SourceIndex >= 10);
        Assert.Equal(split, leaks.Count > 0);
    }

    [Fact]
    public void Dedupe_keeps_the_first_of_each_cluster()
    {
        var records = Templated();
        records.Add(Alpaca("How do I water the roses zone for 5 minutes?", "Run `puddle water roses --minutes 5`."));   // copy of 0
        records.Add(Alpaca("How do I water the roses zone for 5 minutes ?", "Run `puddle water roses --minutes 5`"));  // near copy of 0
        var prepared = Dataset.FromRecords(records).PrepareChecked(Qwen, options: new PrepareOptions { MaxLength = 256 }, checks: new DataCheckOptions { Dedupe = true });
        var cluster = Assert.Single(prepared.Report.Quality!.NearDuplicates.Clusters);
        Assert.Equal([0, 10, 11], cluster.Members);
        Assert.Equal(2, prepared.Report.Quality.DuplicatesDropped);
        Assert.Equal(Enumerable.Range(0, 10), prepared.Train.Examples.Select(e => e.SourceIndex));
        Assert.Contains(prepared.Report.Warnings, w => w.StartsWith("near-duplicates: 1 clusters", StringComparison.Ordinal));
    }
}
