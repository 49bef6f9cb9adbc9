using System.Text;

namespace Tunebook.Text.Tokenizers;

/// <summary>
/// A decoder turns token strings back into text: undoing the byte-level alphabet, turning '▁' back into
/// spaces, reassembling &lt;0xNN&gt; bytes. Decoders form a chain over the list of token strings.
/// </summary>
internal abstract class Decoder
{
    public abstract List<string> DecodeChain(List<string> tokens);
}

internal sealed class SequenceDecoder(IReadOnlyList<Decoder> steps) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        foreach (var step in steps) tokens = step.DecodeChain(tokens);
        return tokens;
    }
}

/// <summary>Maps GPT-2 alphabet characters back to bytes and decodes the bytes as UTF-8 (invalid bytes → U+FFFD).</summary>
internal sealed class ByteLevelDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (var token in tokens)
        {
            // A token with characters outside the alphabet (an added token such as "<|im_start|>" may have
            // some) is taken as its own UTF-8 text, as Hugging Face does.
            bool all = true;
            foreach (var c in token) if (ByteLevelAlphabet.ToByte(c) < 0) { all = false; break; }
            if (all) foreach (var c in token) bytes.Add((byte)ByteLevelAlphabet.ToByte(c));
            else bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(token));
        }
        return [System.Text.Encoding.UTF8.GetString(bytes.ToArray())];
    }
}

internal sealed class ReplaceDecoder(Pattern pattern, string content) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        foreach (var token in tokens)
        {
            var matches = pattern.Matches(token);
            if (matches.Count == 0) { result.Add(token); continue; }
            var sb = new StringBuilder(token.Length);
            int last = 0;
            foreach (var (s, e) in matches) { sb.Append(token, last, s - last).Append(content); last = e; }
            result.Add(sb.Append(token, last, token.Length - last).ToString());
        }
        return result;
    }
}

/// <summary>Turns runs of &lt;0xNN&gt; tokens back into the characters their bytes spell (U+FFFD per byte when invalid).</summary>
internal sealed class ByteFallbackDecoder : Decoder
{
    static readonly UTF8Encoding Strict = new(false, throwOnInvalidBytes: true);

    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        var pending = new List<byte>();
        void Flush()
        {
            if (pending.Count == 0) return;
            try { result.Add(Strict.GetString(pending.ToArray())); }
            catch (DecoderFallbackException) { for (int i = 0; i < pending.Count; i++) result.Add("\uFFFD"); }
            pending.Clear();
        }
        foreach (var token in tokens)
        {
            if (token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>' &&
                byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out var b))
            {
                pending.Add(b);
                continue;
            }
            Flush();
            result.Add(token);
        }
        Flush();
        return result;
    }
}

internal sealed class FuseDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}

/// <summary>Removes up to <c>start</c> leading and <c>stop</c> trailing copies of a character from each token.</summary>
internal sealed class StripDecoder(char content, int start, int stop) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        foreach (var token in tokens)
        {
            int s = 0, e = token.Length;
            while (s < start && s < e && token[s] == content) s++;
            int cut = 0;
            while (cut < stop && e > s && token[e - 1] == content) { e--; cut++; }
            result.Add(token[s..e]);
        }
        return result;
    }
}

/// <summary>SentencePiece: '▁' becomes a space; the space the pre-tokenizer prepended is dropped from the first token.</summary>
internal sealed class MetaspaceDecoder(char replacement, PrependScheme scheme) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i].Replace(replacement, ' ');
            if (i == 0 && scheme != PrependScheme.Never && t.StartsWith(' ')) t = t[1..];
            result.Add(t);
        }
        return result;
    }
}

/// <summary>Classic BPE with an end-of-word suffix (like "&lt;/w&gt;"): the suffix becomes a space (none after the last token).</summary>
internal sealed class BpeSuffixDecoder(string suffix) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
            result.Add(tokens[i].Replace(suffix, i == tokens.Count - 1 ? "" : " "));
        return result;
    }
}
