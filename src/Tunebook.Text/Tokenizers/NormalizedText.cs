using System.Text;

namespace Tunebook.Text.Tokenizers;

/// <summary>
/// A piece of text as the normalizers and pre-tokenizers have rewritten it, together with where each of
/// its UTF-16 chars came from in the caller's original string. Token offsets are computed through this
/// map, so they always point into the string the caller passed to Encode.
/// </summary>
/// <remarks>
/// While no step has changed the text, the map is implicit (char i came from <c>offset + i</c>) and
/// slicing is free: that is the common case for byte-level tokenizers, and keeps encoding allocation-light.
/// Inserted characters (a prepended '▁', a replacement) take the original span of the text they replaced,
/// or, for pure insertions, the span of the character they were attached to.
/// </remarks>
internal sealed class NormalizedText
{
    int[]? _starts, _ends;   // per char of Text: original [start, end)
    readonly int _offset;    // identity map when _starts is null

    public string Text { get; private set; }

    public NormalizedText(string text, int offset)
    {
        Text = text;
        _offset = offset;
    }

    NormalizedText(string text, int[] starts, int[] ends)
    {
        Text = text;
        _starts = starts;
        _ends = ends;
    }

    public int Length => Text.Length;

    /// <summary>True while no step has rewritten the text: char i came from <see cref="Offset"/> + i.</summary>
    public bool IsIdentity => _starts is null;

    /// <summary>Original position of char 0 when <see cref="IsIdentity"/>.</summary>
    public int Offset => _offset;

    public int OriginalStart(int i) => _starts is null ? _offset + i : _starts[i];
    public int OriginalEnd(int i) => _ends is null ? _offset + i + 1 : _ends[i];

    /// <summary>Original span of normalized chars [start, end).</summary>
    public (int Start, int End) Original(int start, int end)
    {
        if (end > start) return (OriginalStart(start), OriginalEnd(end - 1));
        if (Text.Length == 0) return (_offset, _offset);
        int p = start < Text.Length ? OriginalStart(start) : OriginalEnd(Text.Length - 1);
        return (p, p);
    }

    /// <summary>The original span covered by this whole piece.</summary>
    public (int Start, int End) OriginalSpan => Original(0, Text.Length);

    public NormalizedText Slice(int start, int end)
    {
        if (start == 0 && end == Text.Length) return this;
        var text = Text.Substring(start, end - start);
        if (_starts is null) return new NormalizedText(text, _offset + start);
        return new NormalizedText(text, _starts[start..end], _ends![start..end]);
    }

    /// <summary>Builds a rewritten text from copies of this text's chars and replacements.</summary>
    public Builder Rewrite() => new(this);

    internal sealed class Builder(NormalizedText source)
    {
        readonly StringBuilder _text = new(source.Length + 4);
        readonly List<int> _starts = new(source.Length + 4), _ends = new(source.Length + 4);

        /// <summary>Copies source chars [start, end) keeping their individual origins.</summary>
        public Builder Copy(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                _text.Append(source.Text[i]);
                _starts.Add(source.OriginalStart(i));
                _ends.Add(source.OriginalEnd(i));
            }
            return this;
        }

        /// <summary>Emits <paramref name="text"/> in place of source chars [start, end); all its chars get their joint origin.</summary>
        public Builder Replace(string text, int start, int end)
        {
            int s, e;
            if (end > start) (s, e) = source.Original(start, end);
            else if (start < source.Length) (s, e) = (source.OriginalStart(start), source.OriginalEnd(start));
            else (s, e) = source.Original(start, start);
            foreach (var c in text)
            {
                _text.Append(c);
                _starts.Add(s);
                _ends.Add(e);
            }
            return this;
        }

        public NormalizedText Build() => new(_text.ToString(), _starts.ToArray(), _ends.ToArray());
    }
}
