using Tunebook.Text.Tokenizers;

namespace Tunebook.Models.Gguf;

/// <summary>
/// general.name, which llama.cpp reads for more than display: when it contains "phi-3" or "phi3"
/// (llama-vocab.cpp, any architecture), llama.cpp makes every special token except &lt;unk&gt;, &lt;s&gt; and
/// &lt;|endoftext|&gt; swallow the whitespace after it, and &lt;/s&gt; too. That is what the first Phi-3
/// tokenizers do with rstrip on those added tokens; later Phi-3 tokenizers rstrip nothing, and
/// llama.cpp cannot tell them apart but by the name. The name is chosen (or checked) so that llama.cpp
/// strips exactly where Tunebook's tokenizer does.
/// </summary>
static class GgufModelName
{
    static readonly string[] KeptWhitespace = ["<unk>", "<s>", "<|endoftext|>"];

    static bool TriggersPhi3Rule(string name) =>
        name.Contains("phi-3", StringComparison.OrdinalIgnoreCase) || name.Contains("phi3", StringComparison.OrdinalIgnoreCase);

    /// <param name="name">The caller's name, or null to derive one from the file name.</param>
    /// <param name="path">The GGUF path (the default name is its file name without extension).</param>
    public static string Choose(string? name, string path, Tokenizer tokenizer, ModelConfig config, List<string> warnings)
    {
        bool given = name is not null;
        name ??= Path.GetFileNameWithoutExtension(path);
        var rules = WhitespaceRules(tokenizer, config);
        bool phi3Rule = TriggersPhi3Rule(name);

        if (phi3Rule && tokenizer.TokenToId("</s>") is null)
        {
            warnings.Add($"general.name '{name}' contains \"phi3\": llama.cpp then adjusts the token \"</s>\", which this vocabulary lacks, and fails to load the file " +
                         "(\"error loading model vocabulary: _Map_base::at\"); pass another name");
            return name;
        }
        if (rules == Rules.Phi3 && !phi3Rule)
        {
            // The file name is only a default: name the model so that llama.cpp applies the same stripping.
            if (!given) return name + " (phi-3)";
            warnings.Add($"this tokenizer's special tokens swallow the whitespace after them (rstrip), which llama.cpp does only when general.name contains \"phi-3\" or \"phi3\"; " +
                         $"with the name '{name}' llama.cpp keeps that whitespace and tokenizes chat prompts differently from Tunebook");
        }
        else if (rules != Rules.Phi3 && phi3Rule)
            warnings.Add($"general.name '{name}' contains \"phi3\": llama.cpp then makes special tokens swallow the whitespace after them, which this tokenizer does " +
                         (rules == Rules.None ? "not" : "only for some") + "; chat prompts tokenize differently in llama.cpp — pass a name without \"phi3\"");
        else if (rules == Rules.Other)
            warnings.Add("some added tokens of this tokenizer strip the whitespace beside them (lstrip/rstrip), which llama.cpp's GGUF cannot state: " +
                         "text around them tokenizes differently in llama.cpp");
        return name;
    }

    enum Rules { None, Phi3, Other }

    /// <summary>How the tokenizer's added tokens (those the model has rows for) treat whitespace beside them.</summary>
    static Rules WhitespaceRules(Tokenizer tokenizer, ModelConfig config)
    {
        var added = tokenizer.AddedTokens.Where(t => t.Id >= 0 && t.Id < config.VocabSize).ToList();
        if (added.All(t => !t.LStrip && !t.RStrip)) return Rules.None;
        bool phi3 = added.All(t => !t.LStrip && t.RStrip == !KeptWhitespace.Contains(t.Content));
        return phi3 ? Rules.Phi3 : Rules.Other;
    }
}
