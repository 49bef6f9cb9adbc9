using System.Text;
using System.Text.Json;

namespace Tunebook.Text.Tokenizers;

/// <summary>
/// The body of <c>./tunebook tokenize</c>: one text per input line in, one JSON array of ids per output line.
/// Kept here, away from the command-line parsing, so tests can drive it with in-memory readers.
/// </summary>
public static class TokenizeCli
{
    /// <summary>Encodes every line of <paramref name="input"/>; returns the process exit code (0, or 1 on a bad line).</summary>
    /// <param name="tokenizer">The tokenizer.</param>
    /// <param name="jsonLines">Each line is a JSON string (so a text can contain newlines) rather than raw text.</param>
    /// <param name="addSpecialTokens">Add BOS/EOS as Hugging Face's <c>encode</c> does by default.</param>
    public static int Run(Tokenizer tokenizer, bool jsonLines, bool addSpecialTokens, TextReader input, TextWriter output, TextWriter error)
    {
        var line = 0;
        var sb = new StringBuilder();
        while (input.ReadLine() is { } raw)
        {
            line++;
            string text;
            if (jsonLines)
            {
                try
                {
                    text = JsonSerializer.Deserialize(raw, TextJsonContext.Default.String) ?? throw new JsonException("null is not a string");
                }
                catch (JsonException e)
                {
                    error.WriteLine($"tokenize: stdin line {line}: expected a JSON string such as \"hello\\nworld\" ({e.Message})");
                    return 1;
                }
            }
            else text = raw;
            var ids = tokenizer.Encode(text, addSpecialTokens).Ids;
            sb.Clear().Append('[');
            for (int i = 0; i < ids.Length; i++)
            {
                if (i > 0) sb.Append(',');
                sb.Append(ids[i]);
            }
            output.WriteLine(sb.Append(']').ToString());
        }
        output.Flush();
        return 0;
    }
}
