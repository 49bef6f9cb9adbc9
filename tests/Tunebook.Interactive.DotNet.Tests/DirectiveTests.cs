using System.Text.Json;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Events;
using Tunebook.Notebook;
using Tunebook.Notebook.Magics;

namespace Tunebook.Interactive.DotNet.Tests;

/// <summary>A magic command under .NET Interactive binds the same options as Tunebook's own parser.</summary>
public class DirectiveTests
{
    /// <summary>Has a real magic's name and options, and records the options it was run with instead of running it.</summary>
    sealed class Recorder(MagicCommand magic) : MagicCommand
    {
        public object? Last;
        public override string Name => magic.Name;
        public override string Summary => magic.Summary;
        public override Type OptionsType => magic.OptionsType;
        public override Task RunAsync(object options, IMagicContext context) { Last = options; return Task.CompletedTask; }
    }

    static async Task<(Recorder, IReadOnlyList<KernelEvent>)> Run(MagicCommand magic, string line)
    {
        var recorder = new Recorder(magic);
        using var csharp = new CSharpKernel();
        using var kernel = new CompositeKernel { csharp };
        kernel.DefaultKernelName = csharp.Name;
        TunebookKernelExtension.AddMagic(csharp, recorder);
        var result = await kernel.SendAsync(new Microsoft.DotNet.Interactive.Commands.SubmitCode($"#!{magic.Name} {line}"));
        return (recorder, result.Events);
    }

    static string Json(object options) => JsonSerializer.Serialize(options, options.GetType());

    [Theory]
    [InlineData("train", "--steps 60 --lr 2e-3 --batch 8 --eval-every 20 --schedule cosine --bf16")]
    [InlineData("train", "step 5")]
    [InlineData("train", "continue")]
    [InlineData("train", "stop")]
    [InlineData("model", "load starter --dtype bfloat16 --quantize nf4")]
    [InlineData("data", "load datasets/puddle/train.jsonl --val 0.2 --max-length 128 --packing --redact")]
    [InlineData("lora", "--rank 16 --alpha 32 --targets all-linear --modules-to-save embed_tokens")]
    [InlineData("lora", "-r 4 --rslora")]
    [InlineData("generate", "\"How do I list my zones?\" --max-tokens 24 --temperature 0.7 --top-k 5")]
    [InlineData("compare", "\"water the roses\" --heldout datasets/puddle/heldout.jsonl --count 3")]
    [InlineData("save", "gguf build/x.gguf --type f16")]
    [InlineData("runs", "--last 3")]
    public async Task A_magic_line_binds_the_options_the_Tunebook_parser_gives(string name, string line)
    {
        var magic = NotebookExtension.Magics.Single(m => m.Name == name);
        var expected = MagicParser.Parse(magic, line);
        var (recorder, events) = await Run(magic, line);
        Events.Succeeded(events);
        Assert.Equal(Json(expected), Json(recorder.Last!));
    }

    [Fact]
    public void Train_has_its_actions_as_subcommands_and_its_bool_options_as_flags()
    {
        var directive = MagicDirectives.Create(new TrainMagic());
        Assert.Equal("#!train", directive.Name);
        Assert.Equal(["step", "continue", "stop"], directive.Subcommands.Select(s => s.Name));
        Assert.True(directive.Parameters.Single(p => p.Name == "--bf16").Flag);
        Assert.False(directive.Parameters.Single(p => p.Name == "--steps").Flag);
        Assert.True(directive.Subcommands.Single(s => s.Name == "step").Parameters.Single().AllowImplicitName);
    }

    [Fact]
    public async Task A_bad_value_fails_with_Tunebooks_usage_text()
    {
        var (_, events) = await Run(new TrainMagic(), "--steps many");
        var message = Events.Failure(events);
        // The message is Tunebook's usage error as the Tunebook kernel shows it: no exception type, no stack trace.
        Assert.StartsWith("#!train: --steps expects an integer; got \"many\"", message);
        Assert.Contains("Usage: #!train", message);
        Assert.DoesNotContain("   at ", message);

        // An option the magic does not have is refused by .NET Interactive's own parser, naming it.
        (_, events) = await Run(new TrainMagic(), "--stepz 3");
        Assert.Contains("--stepz", Events.Failure(events));
    }

    [Theory]
    [InlineData("--max-tokens", "maxTokens")]
    [InlineData("--modules-to-save", "modulesToSave")]
    [InlineData("-r", "r")]
    [InlineData("prompt", "prompt")]
    public void Parameter_names_are_camel_cased_as_dotnet_interactive_does(string parameter, string property) =>
        Assert.Equal(property, MagicDirectives.CamelCase(parameter));
}
