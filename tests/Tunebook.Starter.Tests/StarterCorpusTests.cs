using System.Text.RegularExpressions;
using Tunebook.Starter;

namespace Tunebook.Starter.Tests;

/// <summary>The starter model's generated pretraining corpus and the invented tools inside it.</summary>
public class StarterCorpusTests
{
    [Fact]
    public void Same_seed_gives_the_same_text_and_another_seed_another()
    {
        var a = StarterCorpus.Generate(7, 300_000);
        var b = StarterCorpus.Generate(7, 300_000);
        var c = StarterCorpus.Generate(8, 300_000);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        // Small corpora share the minimum tool pool, so a shorter one is a prefix of a longer one.
        Assert.StartsWith(StarterCorpus.Generate(7, 50_000), StarterCorpus.Generate(7, 600_000));
    }

    [Fact]
    public void Size_is_reached_and_overshoots_by_at_most_one_document()
    {
        foreach (var size in new[] { 0, 1_000, 123_456, 5_000_000 })
        {
            var text = StarterCorpus.Generate(3, size);
            Assert.InRange(text.Length, size, size + 20_000);
            if (size > 0) Assert.EndsWith(StarterCorpus.EndOfText, text);
        }
    }

    [Fact]
    public void Mix_of_parts_follows_the_planned_shares()
    {
        var docs = StarterCorpus.Documents(5, 2_000_000).Take(5_000).ToList();
        double total = docs.Sum(d => d.Text.Length);
        var share = docs.GroupBy(d => d.Part).ToDictionary(g => g.Key, g => g.Sum(d => d.Text.Length) / total);
        Assert.InRange(share[StarterCorpus.Part.Story], 0.22, 0.28);
        Assert.InRange(share[StarterCorpus.Part.ToolChat], 0.20, 0.26);
        Assert.InRange(share[StarterCorpus.Part.ToolManual], 0.12, 0.22);
        Assert.Equal(8, share.Count);
    }

    [Fact]
    public void ChatML_messages_are_well_formed_and_assistant_replies_about_tools_give_a_command()
    {
        var text = StarterCorpus.Generate(11, 1_000_000);
        var documents = text.Split(StarterCorpus.EndOfText, StringSplitOptions.RemoveEmptyEntries);
        var message = new Regex(@"\G<\|im_start\|>(system|user|assistant)\n([^<]*?)<\|im_end\|>\n", RegexOptions.Compiled);
        int chats = 0, toolReplies = 0;
        foreach (var doc in documents.Where(d => d.StartsWith(StarterCorpus.ImStart)))
        {
            chats++;
            var roles = new List<string>();
            int at = 0;
            Match m;
            while ((m = message.Match(doc, at)).Success && m.Index == at)
            {
                roles.Add(m.Groups[1].Value);
                if (m.Groups[1].Value == "assistant" && m.Groups[2].Value.StartsWith("Run `")) toolReplies++;
                at += m.Length;
            }
            Assert.True(at == doc.Length, $"malformed ChatML at offset {at}: {doc[at..Math.Min(doc.Length, at + 80)]}");
            // Optional system message, then strictly alternating user/assistant turns ending with the assistant.
            var turns = roles.SkipWhile(r => r == "system").ToList();
            Assert.True(roles.Count(r => r == "system") <= 1 && (roles[0] == "system" || roles.Count == turns.Count));
            Assert.True(turns.Count >= 2 && turns.Count % 2 == 0);
            for (int i = 0; i < turns.Count; i++) Assert.Equal(i % 2 == 0 ? "user" : "assistant", turns[i]);
        }
        Assert.True(chats > 500, $"only {chats} chat documents");
        Assert.True(toolReplies > 300, $"only {toolReplies} tool answers");
        Assert.Contains("Question: ", text);
        Assert.Contains("\nAnswer: ", text);
    }

    [Fact]
    public void The_domain_tool_never_appears_in_the_corpus()
    {
        var text = StarterCorpus.Generate(1, 3_000_000);
        Assert.DoesNotContain("puddle", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("PUDDLE_", text);
    }

    [Fact]
    public void Invented_tools_are_valid_specs_and_every_answer_about_them_is_a_valid_command()
    {
        var rng = new DeterministicRandom(99);
        var names = new HashSet<string>();
        var all = QuestionTemplates.Union(QuestionTemplates.Train, QuestionTemplates.HeldOut, QuestionTemplates.Extra);
        for (int t = 0; t < 60; t++)
        {
            var spec = RandomTools.Invent(rng); // validates itself; a broken generator throws here
            names.Add(spec.Name);
            Assert.DoesNotContain("pud", spec.Name);
            Assert.InRange(spec.Commands.Count, 12, 22);
            foreach (var fact in CliQa.Facts(spec))
                foreach (var template in all.For(fact.Kind))
                {
                    var pair = fact.Realize(template, rng);
                    Assert.DoesNotContain("{", pair.Question + pair.Answer);
                    var commands = CliQa.CommandsIn(pair.Answer, spec.Name).ToList();
                    Assert.NotEmpty(commands);
                    foreach (var command in commands) Assert.Null(spec.CheckCommandLine(command));
                }
        }
        Assert.True(names.Count >= 55, "invented names should rarely repeat");
    }

    [Fact]
    public void Stories_are_sentences_with_no_unfilled_slots()
    {
        var rng = new DeterministicRandom(4);
        for (int i = 0; i < 300; i++)
        {
            var story = EnglishText.Story(rng);
            Assert.DoesNotContain("{", story);
            Assert.Matches(@"^[A-Z]", story);
            Assert.EndsWith(".\n", story);
            // Every sentence starts with a capital letter (or an opening quote followed by one).
            foreach (Match m in Regex.Matches(story, @"[.!?] +(\S)"))
                Assert.True(char.IsUpper(m.Groups[1].Value[0]) || m.Groups[1].Value == "\"", story);
        }
        for (int i = 0; i < 300; i++)
        {
            var qa = EnglishText.QuestionAnswer(rng);
            Assert.EndsWith("?", qa.Question);
            Assert.EndsWith(".", qa.Answer);
        }
    }

    [Fact]
    public void Arithmetic_answers_are_correct()
    {
        var rng = new DeterministicRandom(21);
        var words = new[] { "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
            "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty" };
        int Value(string s) => int.TryParse(s, out var v) ? v : Array.IndexOf(words, s.ToLowerInvariant());
        int checkedCount = 0;
        for (int i = 0; i < 2_000; i++)
        {
            var qa = EnglishText.QuestionAnswer(rng);
            var m = Regex.Match(qa.Answer, @"^(\w+) (plus|minus) (\w+) is (\w+)\.$");
            if (!m.Success) continue;
            int x = Value(m.Groups[1].Value), y = Value(m.Groups[3].Value), z = Value(m.Groups[4].Value);
            Assert.Equal(m.Groups[2].Value == "plus" ? x + y : x - y, z);
            checkedCount++;
        }
        Assert.True(checkedCount > 200);
    }

    [Fact]
    public void Random_generator_matches_the_reference_xoshiro256starstar_and_splitmix64_outputs()
    {
        // Published outputs of the reference C implementations (prng.di.unimi.it): xoshiro256** from state {1,2,3,4}.
        var r = DeterministicRandom.FromState(1, 2, 3, 4);
        Assert.Equal(11520UL, r.NextUInt64());
        Assert.Equal(0UL, r.NextUInt64());
        Assert.Equal(1509978240UL, r.NextUInt64());
        Assert.Equal(1215971899390074240UL, r.NextUInt64());
        // Seeding runs SplitMix64 from the seed; its first output from 0 is 0xE220A8397B1DCDAF.
        var seeded = new DeterministicRandom(0);
        var manual = DeterministicRandom.FromState(0xE220A8397B1DCDAFUL, 0x6E789E6AA1B965F4UL, 0x06C45D188009454FUL, 0xF88BB8A8724C81ECUL);
        for (int i = 0; i < 10; i++) Assert.Equal(manual.NextUInt64(), seeded.NextUInt64());
        // Next(n) stays in range and is not badly biased.
        var counts = new int[6];
        for (int i = 0; i < 60_000; i++) counts[r.Next(6)]++;
        Assert.All(counts, c => Assert.InRange(c, 9_400, 10_600));
    }
}
