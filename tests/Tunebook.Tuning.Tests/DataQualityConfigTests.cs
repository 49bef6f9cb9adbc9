using Tunebook.Tuning.Config;
using Tunebook.Tuning.Data.Quality;
using static Tunebook.Tuning.Tests.DataFixtures;

namespace Tunebook.Tuning.Tests;

/// <summary>The data checks in the YAML config: the keys, their defaults, and the report that train --check prints.</summary>
public class DataQualityConfigTests
{
    static string Yaml(string dataExtra) => $"""
        model: starter
        data:
          file: {Sample("checks.jsonl")}
          max_length: 128
          val_fraction: 0.2
        {dataExtra}
        trainer:
          steps: 10
        output: runs/checks
        """;

    [Fact]
    public void Check_keys_are_read_written_back_and_default_to_the_check_options()
    {
        var plain = TrainConfig.Parse(Yaml(""));
        Assert.Equal(DataCheckOptions.Default, plain.Data.ToCheckOptions());
        Assert.Null(plain.Data.HeldoutFile);

        var c = TrainConfig.Parse(Yaml($"""
              heldout_file: {Sample("checks.heldout.jsonl")}
              redact: true
              drop_leaks: true
              dedupe: yes
              balance_field: category
            """));
        Assert.Equal(Sample("checks.heldout.jsonl"), c.Data.HeldoutFile);
        Assert.Equal(DataCheckOptions.Default with { Redact = true, DropLeaks = true, Dedupe = true, BalanceField = "category" }, c.Data.ToCheckOptions());
        Assert.Equal(c.ToYaml().Split('\n').Skip(1), TrainConfig.Parse(c.ToYaml()).ToYaml().Split('\n').Skip(1));
        var e = Assert.Throws<TrainConfigException>(() => TrainConfig.Parse(Yaml("  heldout_fle: x.jsonl")));
        Assert.Contains("did you mean 'data.heldout_file'", e.Message);
    }

    [Fact]
    public void The_config_data_report_has_the_checks_with_the_held_out_file()
    {
        var c = TrainConfig.Parse(Yaml($"""
              heldout_file: {Sample("checks.heldout.jsonl")}
              redact: true
            """));
        var (train, validation, report) = ConfigData.Load(c, Qwen);
        var q = report.Quality!;
        Assert.Equal(2, q.Leakage.HeldOut);
        Assert.Equal(4, q.Sensitive.Redacted);
        Assert.DoesNotContain(train.Examples.Concat(validation!.Examples), e => e.Text.Contains("AKIAZ7Q3FAKE4DEMO2KX", StringComparison.Ordinal));
        string text = report.ToString();
        Assert.Contains("2 of 5 held-out examples", text);
        Assert.Contains("balance by field 'category': watering 23", text);
    }
}
