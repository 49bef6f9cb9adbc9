using System.Text;
using Tunebook.Text.Tokenizers;

namespace Tunebook.Models.Gguf;

/// <summary>
/// The Ollama Modelfile written beside a GGUF, so that <c>ollama create NAME -f Modelfile</c> is the only
/// step left: FROM the file, the stop tokens, and for ChatML and Llama 3 chat templates the same
/// template in Ollama's Go-template form (Ollama does not run Jinja; for other templates it falls back
/// on what it recognises in the GGUF's tokenizer.chat_template, which the comment says).
/// </summary>
public static class OllamaModelfile
{
    /// <summary>ChatML (Qwen, SmolLM2, the starter model) in Ollama's template language.</summary>
    public const string ChatMlTemplate =
        "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n";

    /// <summary>Llama 3's header/eot format in Ollama's template language (llama.cpp adds &lt;|begin_of_text|&gt; itself).</summary>
    public const string Llama3Template =
        "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n";

    static readonly string[] StopCandidates = ["<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>", "<|end|>", "</s>"];

    /// <summary>The Modelfile text for <paramref name="ggufFileName"/> (a name in the same folder).</summary>
    public static string Text(string ggufFileName, Tokenizer tokenizer, ModelConfig config)
    {
        var name = Path.GetFileNameWithoutExtension(ggufFileName).ToLowerInvariant();
        var sb = new StringBuilder();
        sb.Append($"# Ollama: ollama create {name} -f Modelfile && ollama run {name}\n");
        sb.Append($"FROM ./{ggufFileName}\n");
        var template = tokenizer.Config.ChatTemplate;
        string? goTemplate = template switch
        {
            null => null,
            _ when template.Contains("<|im_start|>") => ChatMlTemplate,
            _ when template.Contains("<|start_header_id|>") => Llama3Template,
            _ => null,
        };
        if (goTemplate is not null) sb.Append($"TEMPLATE \"\"\"{goTemplate}\"\"\"\n");
        else if (template is not null) sb.Append("# The chat template is neither ChatML nor Llama 3: Ollama uses the template it recognises in the GGUF (tokenizer.chat_template).\n");
        else sb.Append("# The model has no chat template: Ollama sends prompts as they are.\n");

        foreach (var stop in StopTokens(tokenizer, config))
            sb.Append($"PARAMETER stop \"{stop.Replace("\\", "\\\\").Replace("\"", "\\\"")}\"\n");
        return sb.ToString();
    }

    /// <summary>The end-of-sequence and end-of-turn tokens the tokenizer has, each once.</summary>
    public static IReadOnlyList<string> StopTokens(Tokenizer tokenizer, ModelConfig config)
    {
        var stops = new List<string>();
        void Add(string? token) { if (!string.IsNullOrEmpty(token) && !stops.Contains(token)) stops.Add(token); }
        Add(tokenizer.Config.EosToken);
        foreach (var id in config.EosTokenIds) Add(tokenizer.IdToToken(id));
        foreach (var candidate in StopCandidates) if (tokenizer.TokenToId(candidate) is not null) Add(candidate);
        return stops;
    }

    /// <summary>Writes "Modelfile" in the folder of <paramref name="ggufPath"/>; returns its path.</summary>
    public static string WriteBeside(string ggufPath, Tokenizer tokenizer, ModelConfig config)
    {
        var full = Path.GetFullPath(ggufPath);
        var path = Path.Combine(Path.GetDirectoryName(full)!, "Modelfile");
        Tunebook.IO.AtomicFile.WriteAllText(path, Text(Path.GetFileName(full), tokenizer, config));
        return path;
    }
}
