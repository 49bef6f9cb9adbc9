using System.Text;

namespace Tunebook.Text.Tokenizers;

/// <summary>The four Unicode normalization forms.</summary>
public enum UnicodeForm { NFC, NFD, NFKC, NFKD }

/// <summary>
/// Unicode normalization (UAX #15) in managed code, from tables generated out of the Unicode
/// character database. Needed because <see cref="string.Normalize()"/> does nothing when
/// globalization-invariant mode is on, as it is in this repository.
/// </summary>
public static class UnicodeNormalization
{
    const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    sealed class Tables
    {
        public readonly Dictionary<int, byte> Ccc = new();
        public readonly Dictionary<int, int[]> Canonical = new(), Compatibility = new();
        public readonly Dictionary<long, int> Compose = new();

        public Tables()
        {
            var c = UnicodeData.CombiningClasses;
            for (int i = 0; i < c.Length; i += 2) Ccc[c[i]] = (byte)c[i + 1];
            Read(UnicodeData.CanonicalDecompositions, Canonical);
            Read(UnicodeData.CompatibilityDecompositions, Compatibility);
            var m = UnicodeData.Compositions;
            for (int i = 0; i < m.Length; i += 3) Compose[Key(m[i], m[i + 1])] = m[i + 2];
        }

        static void Read(ReadOnlySpan<int> flat, Dictionary<int, int[]> into)
        {
            for (int i = 0; i < flat.Length;)
            {
                int cp = flat[i], n = flat[i + 1];
                into[cp] = flat.Slice(i + 2, n).ToArray();
                i += 2 + n;
            }
        }
    }

    static readonly Lazy<Tables> Data = new(() => new Tables());

    static long Key(int a, int b) => ((long)a << 21) | (uint)b;

    /// <summary>True when every char is below the first code point the form could change (cheap pre-check).</summary>
    public static bool IsTriviallyNormalized(ReadOnlySpan<char> s, UnicodeForm form)
    {
        char limit = form switch { UnicodeForm.NFC => '\u0300', UnicodeForm.NFD => '\u00C0', _ => '\u00A0' };
        foreach (var c in s) if (c >= limit) return false;
        return true;
    }

    /// <summary>Normalizes <paramref name="s"/> to the given form. Unpaired surrogates pass through unchanged.</summary>
    public static string Normalize(string s, UnicodeForm form)
    {
        if (IsTriviallyNormalized(s, form)) return s;
        var t = Data.Value;
        bool compat = form is UnicodeForm.NFKC or UnicodeForm.NFKD;
        var cps = new List<int>(s.Length + 8);
        for (int i = 0; i < s.Length; i++)
        {
            int cp = s[i];
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                cp = char.ConvertToUtf32(s[i], s[++i]);
            Decompose(cp, compat, t, cps);
        }
        Reorder(cps, t);
        if (form is UnicodeForm.NFC or UnicodeForm.NFKC) ComposeInPlace(cps, t);
        var sb = new StringBuilder(cps.Count);
        foreach (var cp in cps)
        {
            if (cp < 0x10000) sb.Append((char)cp);
            else sb.Append(char.ConvertFromUtf32(cp));
        }
        return sb.ToString();
    }

    static void Decompose(int cp, bool compat, Tables t, List<int> into)
    {
        int s = cp - SBase;
        if (s >= 0 && s < SCount)
        {
            into.Add(LBase + s / NCount);
            into.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0) into.Add(TBase + s % TCount);
            return;
        }
        if (compat && t.Compatibility.TryGetValue(cp, out var k)) into.AddRange(k);
        else if (t.Canonical.TryGetValue(cp, out var d)) into.AddRange(d);
        else into.Add(cp);
    }

    static int Ccc(int cp, Tables t) => cp < 0x300 ? 0 : t.Ccc.GetValueOrDefault(cp);

    /// <summary>Canonical ordering: a stable sort of each run of non-starters by combining class.</summary>
    static void Reorder(List<int> cps, Tables t)
    {
        for (int i = 1; i < cps.Count; i++)
        {
            int c = Ccc(cps[i], t);
            if (c == 0) continue;
            int j = i;
            while (j > 0)
            {
                int p = Ccc(cps[j - 1], t);
                if (p <= c) break;
                (cps[j - 1], cps[j]) = (cps[j], cps[j - 1]);
                j--;
            }
        }
    }

    static int ComposePair(int a, int b, Tables t)
    {
        int l = a - LBase, v = b - VBase;
        if (l >= 0 && l < LCount && v >= 0 && v < VCount) return SBase + (l * VCount + v) * TCount;
        int s = a - SBase, tt = b - TBase;
        if (s >= 0 && s < SCount && s % TCount == 0 && tt > 0 && tt < TCount) return a + tt;
        return t.Compose.TryGetValue(Key(a, b), out var c) ? c : -1;
    }

    static void ComposeInPlace(List<int> cps, Tables t)
    {
        if (cps.Count < 2) return;
        int starterPos = 0, write = 1;
        int lastClass = Ccc(cps[0], t) == 0 ? 0 : 256; // a leading non-starter blocks composition
        for (int read = 1; read < cps.Count; read++)
        {
            int ch = cps[read], chClass = Ccc(ch, t);
            int composite = lastClass == 256 ? -1 : ComposePair(cps[starterPos], ch, t);
            if (composite >= 0 && (lastClass < chClass || lastClass == 0))
            {
                cps[starterPos] = composite;
                continue;
            }
            if (chClass == 0) starterPos = write;
            lastClass = chClass;
            cps[write++] = ch;
        }
        cps.RemoveRange(write, cps.Count - write);
    }
}
