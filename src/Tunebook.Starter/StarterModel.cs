using System.Text.Json;

namespace Tunebook.Starter;

/// <summary>
/// Facts about the built-in starter model that code outside datasets/starter/ needs: its special tokens (in
/// id order), its chat template, and the parameter arithmetic of its config.json. The architecture itself
/// lives only in datasets/starter/config.json; see datasets/starter/README.md for why each number was chosen.
/// </summary>
public static class StarterModel
{
    /// <summary>The special tokens, which the tokenizer trainer must place first, at ids 0, 1, 2.</summary>
    public static IReadOnlyList<string> SpecialTokens { get; } = [StarterCorpus.EndOfText, StarterCorpus.ImStart, StarterCorpus.ImEnd];

    /// <summary>The ChatML chat template (Jinja), for tokenizer_config.json. No default system message, no BOS.</summary>
    public const string ChatTemplate =
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /// <summary>The sizes of a Llama config that determine its parameter count.</summary>
    public sealed record Shape(int VocabSize, int HiddenSize, int IntermediateSize, int Layers, int Heads, int KeyValueHeads, bool TiedEmbeddings)
    {
        /// <summary>Reads the sizes from a Hugging Face config.json; a missing field is an error naming it.</summary>
        public static Shape FromConfigJson(string json, string source = "config.json")
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            int Int(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number
                ? v.GetInt32() : throw new InvalidDataException($"{source}: missing integer field '{name}'");
            bool tied = root.TryGetProperty("tie_word_embeddings", out var t) && t.ValueKind == JsonValueKind.True;
            return new Shape(Int("vocab_size"), Int("hidden_size"), Int("intermediate_size"), Int("num_hidden_layers"),
                Int("num_attention_heads"), Int("num_key_value_heads"), tied);
        }

        /// <summary>Parameters of LlamaForCausalLM with this shape (no biases, RMSNorm weights only).</summary>
        public long ParameterCount
        {
            get
            {
                long h = HiddenSize, headDim = HiddenSize / Heads, kv = KeyValueHeads * headDim;
                long attention = h * h /* q */ + 2 * h * kv /* k, v */ + h * h /* o */;
                long mlp = 3 * h * IntermediateSize; // gate, up, down
                long norms = 2 * h;
                long embeddings = (long)VocabSize * h * (TiedEmbeddings ? 1 : 2);
                return embeddings + Layers * (attention + mlp + norms) + h /* final norm */;
            }
        }
    }
}
