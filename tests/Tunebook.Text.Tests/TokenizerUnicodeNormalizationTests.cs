using System.Text.Json;
using Tunebook.Text.Tokenizers;

namespace Tunebook.Text.Tests;

/// <summary>The managed NFC/NFD/NFKC/NFKD against Python's unicodedata.</summary>
public class TokenizerUnicodeNormalizationTests
{
    [Fact]
    public void All_forms_match_python_unicodedata()
    {
        // The corpus plus random strings mixing letters, combining marks (in scrambled order), Hangul jamo and syllables.
        var rng = new Random(1234);
        int[] pool = [0x41, 0x61, 0x65, 0xC5, 0xE9, 0x300, 0x301, 0x302, 0x308, 0x323, 0x327, 0x31B, 0x345, 0x1100, 0x1161, 0x11A8,
            0xAC00, 0xD4DB, 0x1E0A, 0x1E69, 0x212B, 0x2126, 0xFB01, 0x2460, 0xFF21, 0x3300, 0x0958, 0x0915, 0x093C, 0x0B47, 0x0B3E,
            0x1D15E, 0x2F800, 0x05B7, 0x05B8, 0x0F73, 0x20, 0x1F600, 0x3099, 0x304B, 0x30AB];
        var texts = TokenizerReference.Corpus.ToList();
        for (int i = 0; i < 300; i++)
            texts.Add(string.Concat(Enumerable.Range(0, rng.Next(1, 12)).Select(_ => char.ConvertFromUtf32(pool[rng.Next(pool.Length)]))));
        var script = "import json, sys, unicodedata as u\n" +
                     "texts = json.load(sys.stdin)\n" +
                     "print(json.dumps({f: [u.normalize(f, t) for t in texts] for f in ('NFC', 'NFD', 'NFKC', 'NFKD')}))";
        var answer = JsonSerializer.Deserialize<Dictionary<string, string[]>>(
            TokenizerReference.Run("python3", ["-c", script], JsonSerializer.Serialize(texts, Tunebook.Tests.TestJson.Options)), Tunebook.Tests.TestJson.Options)!;
        foreach (var form in Enum.GetValues<UnicodeForm>())
            for (int i = 0; i < texts.Count; i++)
                Assert.True(answer[form.ToString()][i] == UnicodeNormalization.Normalize(texts[i], form),
                    $"{form} of {JsonSerializer.Serialize(texts[i], Tunebook.Tests.TestJson.Options)}: expected {JsonSerializer.Serialize(answer[form.ToString()][i], Tunebook.Tests.TestJson.Options)}, got {JsonSerializer.Serialize(UnicodeNormalization.Normalize(texts[i], form), Tunebook.Tests.TestJson.Options)}");
    }
}
