namespace Tunebook.Text.Tokenizers;

/// <summary>
/// GPT-2's reversible map between the 256 byte values and 256 printable characters. Printable ASCII and
/// most of Latin-1 map to themselves; the rest (control bytes, space, ...) move up to U+0100 and beyond,
/// which is why a space shows up as 'Ġ' (U+0120) and a newline as 'Ċ' in byte-level vocabularies.
/// </summary>
public static class ByteLevelAlphabet
{
    /// <summary>Character standing for each byte value.</summary>
    public static readonly char[] ByteToChar = Build();

    /// <summary>Byte value of each alphabet character, or -1 (indexed by char; covers U+0000..U+01FF).</summary>
    public static readonly short[] CharToByte = Invert(ByteToChar);

    static char[] Build()
    {
        var map = new char[256];
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)(256 + next++);
        }
        return map;
    }

    static short[] Invert(char[] map)
    {
        var inv = new short[0x200];
        Array.Fill(inv, (short)-1);
        for (int b = 0; b < 256; b++) inv[map[b]] = (short)b;
        return inv;
    }

    /// <summary>Byte for an alphabet character, or -1 when the character is not part of the alphabet.</summary>
    public static int ToByte(char c) => c < CharToByte.Length ? CharToByte[c] : -1;

    /// <summary>Maps UTF-8 bytes to their alphabet string ("Hello world" → "HelloĠworld").</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (dst, src) =>
        {
            for (int i = 0; i < src.Length; i++) dst[i] = ByteToChar[src[i]];
        });
    }
}
