using Tunebook.Text.Tokenizers;

namespace Tunebook.Models;

/// <summary>
/// Turns a growing list of token ids into text deltas. Byte-level tokens can end in the middle of a
/// multi-byte character (the decoder then shows U+FFFD); such text is held back until the character
/// is complete. Text that could be the start of a stop string is held back too, so a stop string is
/// never streamed and then retracted.
/// </summary>
public sealed class TextStream
{
    readonly Tokenizer? _tokenizer;
    readonly bool _skipSpecial;
    readonly IReadOnlyList<string> _stops;
    readonly List<int> _ids = new();
    int _emitted;

    public TextStream(Tokenizer? tokenizer, IReadOnlyList<string> stopStrings, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _stops = stopStrings.Where(s => !string.IsNullOrEmpty(s)).ToArray();
        _skipSpecial = skipSpecialTokens;
    }

    /// <summary>The full decoded text so far (cut at a stop string once one was found).</summary>
    public string Text { get; private set; } = "";

    /// <summary>True once a stop string appeared.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds a token; returns the text that may be shown now.</summary>
    public string Push(int id)
    {
        _ids.Add(id);
        if (_tokenizer is null) return "";
        var text = _tokenizer.Decode(_ids, _skipSpecial);
        int searchFrom = Math.Max(0, Text.Length - _stops.Select(s => s.Length).DefaultIfEmpty(0).Max());
        int cut = -1;
        foreach (var stop in _stops)
        {
            int at = text.IndexOf(stop, Math.Min(searchFrom, text.Length), StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        if (cut >= 0) { text = text[..cut]; Stopped = true; }
        Text = text;
        int safe = Stopped ? text.Length : SafeLength(text);
        return Take(safe);
    }

    /// <summary>Everything not yet shown (at the end of generation).</summary>
    public string Flush() => Take(Text.Length);

    string Take(int upTo)
    {
        if (upTo <= _emitted) return "";
        var delta = Text[_emitted..upTo];
        _emitted = upTo;
        return delta;
    }

    int SafeLength(string text)
    {
        int safe = text.Length;
        // An incomplete multi-byte character decodes to U+FFFD at the end: wait for the rest.
        while (safe > 0 && text[safe - 1] == '\uFFFD') safe--;
        // Never split a surrogate pair.
        if (safe > 0 && char.IsHighSurrogate(text[safe - 1])) safe--;
        // Hold back the longest tail that could still grow into a stop string.
        int hold = 0;
        foreach (var stop in _stops)
            for (int k = Math.Min(stop.Length - 1, safe); k > hold; k--)
                if (string.CompareOrdinal(text, safe - k, stop, 0, k) == 0) { hold = k; break; }
        safe -= hold;
        return Math.Max(safe, Math.Min(_emitted, text.Length));
    }
}
