using Tunebook.Interactive;

namespace Tunebook.Kernel.Tests;

public sealed class MagicParserTests
{
    public enum Precision { Float32, BFloat16 }

    public sealed class TrainOptions
    {
        [Argument(0, "action", Help = "What to do", Required = false, Choices = ["step", "continue", "stop"])] public string? Action { get; set; }
        [Option("--steps", Aliases = ["-s"], Help = "Optimizer steps to run")] public int? Steps { get; set; }
        [Option("--lr", Help = "Peak learning rate")] public double LearningRate { get; set; } = 2e-4;
        [Option("--tokens")] public long Tokens { get; set; }
        [Option("--resume", Help = "Resume from the last checkpoint")] public bool Resume { get; set; }
        [Option("--precision")] public Precision Precision { get; set; } = Precision.Float32;
        [Option("--modules", Help = "Target modules")] public string[] Modules { get; set; } = ["q_proj", "v_proj"];
        [Option("--scheduler", Choices = ["cosine", "linear"])] public string Scheduler { get; set; } = "cosine";
        [Option("--run-name", Required = true)] public string RunName { get; set; } = "";
    }

    public sealed class CopyOptions
    {
        [Argument(0, "source")] public string Source { get; set; } = "";
        [Argument(1, "targets")] public string[] Targets { get; set; } = [];
    }

    sealed class Train : MagicCommand<TrainOptions>
    {
        public override string Name => "train";
        public override string Summary => "Train the model";
        public override IReadOnlyList<string> Examples => ["#!train --steps 100 --run-name demo"];
        protected override Task RunAsync(TrainOptions options, IMagicContext context) => Task.CompletedTask;
    }

    static TrainOptions Parse(string args) => (TrainOptions)MagicParser.Parse(new Train(), args);

    static string Error(string args) => Assert.Throws<MagicUsageException>(() => Parse(args)).Message;

    [Fact]
    public void Tokenizer_groups_quoted_words_and_unescapes()
    {
        Assert.Equal(["a", "b c", "d\"e", "it's", "x\\y", ""], MagicParser.Tokenize("a \"b c\" \"d\\\"e\" \"it's\" \"x\\\\y\" ''"));
        Assert.Equal(["--name=two words"], MagicParser.Tokenize("--name=\"two words\""));
        Assert.Equal(["'single'"], MagicParser.Tokenize("\"'single'\""));
        Assert.Empty(MagicParser.Tokenize("   \t "));
        var e = Assert.Throws<MagicUsageException>(() => MagicParser.Tokenize("a \"unterminated"));
        Assert.Contains("unterminated double quote starting at column 3", e.Message);
    }

    [Fact]
    public void Binds_every_option_form_and_keeps_defaults()
    {
        var o = Parse("step --steps 10 --lr=1e-3 --resume --precision bfloat16 --run-name \"my run\" --tokens 1_000_000");
        Assert.Equal("step", o.Action);
        Assert.Equal(10, o.Steps);
        Assert.Equal(1e-3, o.LearningRate);
        Assert.True(o.Resume);
        Assert.Equal(Precision.BFloat16, o.Precision);
        Assert.Equal("my run", o.RunName);
        Assert.Equal(1_000_000L, o.Tokens);
        Assert.Equal(["q_proj", "v_proj"], o.Modules);
        Assert.Equal("cosine", o.Scheduler);

        var defaults = Parse("--run-name x");
        Assert.Null(defaults.Action);
        Assert.Null(defaults.Steps);
        Assert.Equal(2e-4, defaults.LearningRate);
        Assert.False(defaults.Resume);
    }

    [Fact]
    public void Aliases_negative_numbers_flags_with_values_and_case()
    {
        var o = Parse("-s 5 --lr -0.5 --resume=false --precision BFLOAT16 --scheduler LINEAR --run-name r STOP");
        Assert.Equal(5, o.Steps);
        Assert.Equal(-0.5, o.LearningRate);
        Assert.False(o.Resume);
        Assert.Equal(Precision.BFloat16, o.Precision);
        Assert.Equal("linear", o.Scheduler);   // normalized to the declared spelling
        Assert.Equal("stop", o.Action);
    }

    [Fact]
    public void Lists_are_repeatable_or_comma_separated()
    {
        Assert.Equal(["q", "k", "v"], Parse("--run-name r --modules q,k --modules v").Modules);
        var copy = MagicParser.Parse<CopyOptions>("copy", "src a b c");
        Assert.Equal("src", copy.Source);
        Assert.Equal(["a", "b", "c"], copy.Targets);
        Assert.Contains("missing argument <targets>", Assert.Throws<MagicUsageException>(() => MagicParser.Parse<CopyOptions>("copy", "src")).Message);
    }

    [Theory]
    [InlineData("--steps ten --run-name r", "--steps expects an integer; got \"ten\"")]
    [InlineData("--lr fast --run-name r", "--lr expects a number; got \"fast\"")]
    [InlineData("--run-name r --precision fp8", "--precision must be one of float32, bfloat16; got \"fp8\"")]
    [InlineData("--run-name r --scheduler step", "--scheduler must be one of cosine, linear; got \"step\"")]
    [InlineData("jump --run-name r", "action must be one of step, continue, stop; got \"jump\"")]
    [InlineData("--steps 1", "missing required option --run-name")]
    [InlineData("--run-name r --stpes 3", "unknown option --stpes (did you mean --steps?)")]
    [InlineData("--run-name r --zzz", "unknown option --zzz")]
    [InlineData("step extra --run-name r", "unexpected argument \"extra\"")]
    [InlineData("--run-name r --steps", "option --steps expects a value (an integer)")]
    [InlineData("--run-name r --steps 1 --steps 2", "option --steps is given more than once")]
    public void Errors_name_the_problem_and_include_the_usage(string args, string problem)
    {
        var message = Error(args);
        Assert.StartsWith("#!train: ", message);
        Assert.Contains(problem, message);
        Assert.Contains("Usage: #!train [action] --run-name <text> [options]", message);
    }

    [Fact]
    public void Usage_lists_arguments_options_defaults_choices_and_examples()
    {
        var usage = MagicHelp.Usage(new Train());
        Assert.Contains("Usage: #!train [action] --run-name <text> [options]", usage);
        Assert.Contains("Train the model", usage);
        Assert.Matches(@"action\s+What to do \(one of: step, continue, stop\)", usage);
        Assert.Matches(@"--steps, -s <int>\s+Optimizer steps to run", usage);
        Assert.Matches(@"--lr <number>\s+Peak learning rate \[default: 0\.0002\]", usage);
        Assert.Matches(@"--resume\s+Resume from the last checkpoint\n", usage);
        Assert.Contains("(one of: float32, bfloat16) [default: float32]", usage);
        Assert.Contains("[default: q_proj,v_proj]", usage);
        Assert.Matches(@"--run-name <text>\s+\[required\]", usage);
        Assert.Contains("-h, --help", usage);
        Assert.Contains("#!train --steps 100 --run-name demo", usage);
    }

    [Fact]
    public void Help_requests_are_recognized()
    {
        Assert.True(MagicParser.IsHelpRequest(MagicParser.Tokenize("--help")));
        Assert.True(MagicParser.IsHelpRequest(MagicParser.Tokenize("x -h")));
        Assert.False(MagicParser.IsHelpRequest(MagicParser.Tokenize("--helpful")));
    }
}
