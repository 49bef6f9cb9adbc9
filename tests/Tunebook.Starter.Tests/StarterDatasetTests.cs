using System.Text.Json;
using System.Text.RegularExpressions;
using Tunebook.Starter;

namespace Tunebook.Starter.Tests;

/// <summary>The puddle domain dataset: generated deterministically from its spec, committed without drift,
/// held-out questions disjoint from training, every answer a valid puddle command.</summary>
public class StarterDatasetTests
{
    static readonly CliSpec Spec = CliSpec.Load(StarterTestSupport.Datasets("puddle", "spec.yaml"));

    static List<(string Question, string Answer)> ReadChat(string file) =>
        File.ReadAllLines(StarterTestSupport.Datasets("puddle", file)).Select((line, i) =>
        {
            using var doc = JsonDocument.Parse(line);
            var messages = doc.RootElement.GetProperty("messages");
            Assert.Equal(2, messages.GetArrayLength());
            Assert.Equal("user", messages[0].GetProperty("role").GetString());
            Assert.Equal("assistant", messages[1].GetProperty("role").GetString());
            return (messages[0].GetProperty("content").GetString()!, messages[1].GetProperty("content").GetString()!);
        }).ToList();

    [Fact]
    public void Building_twice_with_one_seed_gives_identical_files_and_another_seed_differs()
    {
        var a = DomainDataset.Build(Spec, 11).RenderFiles();
        var b = DomainDataset.Build(Spec, 11).RenderFiles();
        var c = DomainDataset.Build(Spec, 12).RenderFiles();
        Assert.Equal(a, b);
        Assert.NotEqual(a["train.jsonl"], c["train.jsonl"]);
        Assert.Equal(a["README.md"], c["README.md"]); // the manual does not depend on the dataset seed
    }

    [Fact]
    public void Committed_files_are_exactly_what_the_generator_produces_now()
    {
        var drift = StarterDatasets.FindDrift(StarterTestSupport.RepoRoot);
        Assert.True(drift.Count == 0,
            $"regenerate with StarterDatasets.GenerateAll(repoRoot) and commit: {string.Join(", ", drift)} differ");
    }

    [Fact]
    public void Three_training_formats_hold_the_same_examples_in_the_same_order()
    {
        var chat = ReadChat("train.jsonl");
        var alpaca = File.ReadAllLines(StarterTestSupport.Datasets("puddle", "train.alpaca.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var completion = File.ReadAllLines(StarterTestSupport.Datasets("puddle", "train.completion.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(chat.Count, alpaca.Count);
        Assert.Equal(chat.Count, completion.Count);
        for (int i = 0; i < chat.Count; i++)
        {
            Assert.Equal(chat[i].Question, alpaca[i].GetProperty("instruction").GetString());
            Assert.Equal("", alpaca[i].GetProperty("input").GetString());
            Assert.Equal(chat[i].Answer, alpaca[i].GetProperty("output").GetString());
            Assert.Equal($"Question: {chat[i].Question}\nAnswer:", completion[i].GetProperty("prompt").GetString());
            Assert.Equal(" " + chat[i].Answer, completion[i].GetProperty("completion").GetString());
        }
    }

    [Fact]
    public void No_held_out_question_appears_in_training_nor_uses_a_training_phrasing()
    {
        var train = ReadChat("train.jsonl");
        var held = ReadChat("heldout.jsonl");
        var trainQuestions = train.Select(t => t.Question).ToHashSet();
        Assert.All(held, h => Assert.DoesNotContain(h.Question, trainQuestions));

        // Each training phrasing as a pattern ("How do I {task}?" → ^How do I .+\?$): none may match a held-out question.
        var patterns = QuestionTemplates.Train.ByKind.Values.SelectMany(t => t)
            .Select(t => new Regex("^" + Regex.Replace(Regex.Escape(char.ToUpperInvariant(t[0]) + t[1..]).Replace("\\{tool}", "puddle"), @"\\\{[a-z]+}", ".+") + "$"))
            .ToList();
        foreach (var (question, _) in held)
            Assert.DoesNotContain(patterns, p => p.IsMatch(question));
        // ...while every training question matches one (the patterns are right).
        Assert.All(train, t => Assert.Contains(patterns, p => p.IsMatch(t.Question)));
    }

    [Fact]
    public void Every_answer_contains_a_valid_puddle_command()
    {
        foreach (var file in new[] { "train.jsonl", "heldout.jsonl" })
            foreach (var (question, answer) in ReadChat(file))
            {
                var commands = CliQa.CommandsIn(answer, "puddle").ToList();
                Assert.True(commands.Count > 0, $"{file}: no puddle command in the answer to '{question}': {answer}");
                foreach (var command in commands)
                    Assert.True(Spec.CheckCommandLine(command) is null, $"{file}: '{command}': {Spec.CheckCommandLine(command)}");
            }
    }

    [Theory]
    [InlineData("puddle water lawn --minutes 15", null)]
    [InlineData("PUDDLE_TOKEN=x puddle --quiet sync --pull", null)]
    [InlineData("puddle init --garden \"Orchard Lane\"", null)]
    [InlineData("puddle water lawn --seconds 15", "has no option --seconds")]
    [InlineData("puddle irrigate lawn", "no command")]
    [InlineData("puddle zone add roses", "requires --valve")]
    [InlineData("puddle zone add roses --valve", "needs a value")]
    [InlineData("puddle zone add roses --valve 3 --soil peat", "must be one of clay, loam, sand")]
    [InlineData("puddle zone rename roses", "needs 2 arguments")]
    [InlineData("puddle stop lawn herbs", "takes at most 1 arguments")]
    [InlineData("water lawn", "does not run puddle")]
    public void Command_checker_accepts_valid_lines_and_names_the_problem_otherwise(string line, string? problem)
    {
        var result = Spec.CheckCommandLine(line);
        if (problem is null) Assert.Null(result);
        else Assert.Contains(problem, result);
    }

    [Fact]
    public void Sizes_fit_the_quickstart_budget()
    {
        var train = ReadChat("train.jsonl");
        var held = ReadChat("heldout.jsonl");
        Assert.InRange(train.Count, 300, 600);
        Assert.InRange(held.Count, 30, 50);
        // A 4096-token BPE on the starter corpus averages 2.7–4.5 characters a token on this text, so these bounds
        // keep answers under 60 tokens and whole chat examples well under 128 (datasets/README.md has the counts).
        Assert.All(train.Concat(held), p => Assert.InRange(p.Answer.Length, 10, 160));
        Assert.All(train.Concat(held), p => Assert.InRange(p.Question.Length + p.Answer.Length, 20, 260));
        // Every command of the spec is asked about in training, and at least 20 of them in the held-out set.
        foreach (var c in Spec.Commands)
            Assert.Contains(train, p => CliQa.CommandsIn(p.Answer, "puddle").Any(x => Spec.FindCommand(CommandLine.Split(x).Skip(1).Where(w => !w.StartsWith('-')).ToList()) == c));
        var heldCommands = held.SelectMany(p => CliQa.CommandsIn(p.Answer, "puddle")).Select(x => Spec.FindCommand(CommandLine.Split(x).Skip(1).ToList())?.Name).Distinct().Count();
        Assert.True(heldCommands >= 20, $"held-out answers cover only {heldCommands} commands");
        var docs = File.ReadAllText(StarterTestSupport.Datasets("puddle", "docs.txt"));
        Assert.InRange(docs.Length, 5_000, 40_000);
        Assert.All(Spec.Commands, c => Assert.Contains($"Usage: {Spec.Usage(c)}", docs));
    }

    [Fact]
    public void Spec_errors_name_the_file_line_and_field()
    {
        var badYaml = Assert.Throws<InvalidDataException>(() => CliSpec.Parse("name: x\ncommands: [\n", "bad.yaml"));
        Assert.StartsWith("bad.yaml(", badYaml.Message);

        var unknownField = Assert.Throws<InvalidDataException>(() => CliSpec.Parse("name: x\nsumary: typo\n", "typo.yaml"));
        Assert.Contains("typo.yaml(2,", unknownField.Message);

        var yaml = File.ReadAllText(StarterTestSupport.Datasets("puddle", "spec.yaml"));
        var unknownSlot = Assert.Throws<InvalidDataException>(() =>
            CliSpec.Parse(yaml.Replace("run: puddle water {zone} --minutes {minutes}", "run: puddle water {zone} --minutes {mins}"), "spec.yaml"));
        Assert.Contains("commands.'water'.tasks[1]", unknownSlot.Message);
        Assert.Contains("{mins}", unknownSlot.Message);

        var badSlot = Assert.Throws<InvalidDataException>(() =>
            CliSpec.Parse(yaml.Replace("{say: weekends, run: \"sat,sun\"}", "{say: weekends, ran: \"sat,sun\"}"), "spec.yaml"));
        Assert.Contains("'ran'", badSlot.Message);

        var unusedOption = Assert.Throws<InvalidDataException>(() =>
            CliSpec.Parse(yaml.Replace("        run: puddle init --force\n", "        run: puddle init\n"), "spec.yaml"));
        Assert.Contains("commands.'init'.options.--force", unusedOption.Message);
    }

    [Fact]
    public void Generate_writes_every_file_beside_the_spec()
    {
        var dir = Directory.CreateTempSubdirectory("tunebook-puddle-");
        try
        {
            File.Copy(StarterTestSupport.Datasets("puddle", "spec.yaml"), Path.Combine(dir.FullName, "spec.yaml"));
            var written = DomainDataset.Generate(Path.Combine(dir.FullName, "spec.yaml"));
            Assert.Equal(6, written.Count);
            foreach (var path in written)
                Assert.Equal(File.ReadAllText(StarterTestSupport.Datasets("puddle", Path.GetFileName(path))), File.ReadAllText(path));
            Assert.Empty(Directory.GetFiles(dir.FullName, "*.tmp*"));
        }
        finally { dir.Delete(recursive: true); }
    }
}
