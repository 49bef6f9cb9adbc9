using System.Text.Json;

namespace Tunebook.Text.Tokenizers;

/// <summary>
/// The pieces of a tokenizer.json that Tunebook writes itself (the BPE trainer's output and the
/// conversion of GPT-2's vocab.json + merges.txt), in the field order and with the defaults Hugging
/// Face's tokenizers library writes, so both producers emit the same shape.
/// </summary>
internal static class TokenizerJsonWriter
{
    /// <summary>One entry of "added_tokens".</summary>
    public static void WriteAddedToken(Utf8JsonWriter w, int id, string content, bool special)
    {
        w.WriteStartObject();
        w.WriteNumber("id", id);
        w.WriteString("content", content);
        w.WriteBoolean("single_word", false);
        w.WriteBoolean("lstrip", false);
        w.WriteBoolean("rstrip", false);
        w.WriteBoolean("normalized", !special);
        w.WriteBoolean("special", special);
        w.WriteEndObject();
    }

    /// <summary>A ByteLevel pre-tokenizer, post-processor or decoder under <paramref name="name"/>.</summary>
    public static void WriteByteLevel(Utf8JsonWriter w, string name, bool addPrefixSpace, bool trimOffsets, bool useRegex)
    {
        w.WriteStartObject(name);
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", addPrefixSpace);
        w.WriteBoolean("trim_offsets", trimOffsets);
        w.WriteBoolean("use_regex", useRegex);
        w.WriteEndObject();
    }

    /// <summary>
    /// The "model" object of a byte-level BPE: vocabulary in the order given, merges in rank order as
    /// [left, right] pairs (the form tokenizers 0.20+ writes; a token may then contain a space).
    /// </summary>
    public static void WriteBpeModel(Utf8JsonWriter w, IEnumerable<(string Token, int Id)> vocab, IEnumerable<(string Left, string Right)> merges)
    {
        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        w.WriteNull("unk_token");
        w.WriteNull("continuing_subword_prefix");
        w.WriteNull("end_of_word_suffix");
        w.WriteBoolean("fuse_unk", false);
        w.WriteBoolean("byte_fallback", false);
        w.WriteBoolean("ignore_merges", false);
        w.WriteStartObject("vocab");
        foreach (var (token, id) in vocab) w.WriteNumber(token, id);
        w.WriteEndObject();
        w.WriteStartArray("merges");
        foreach (var (left, right) in merges)
        {
            w.WriteStartArray();
            w.WriteStringValue(left);
            w.WriteStringValue(right);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
