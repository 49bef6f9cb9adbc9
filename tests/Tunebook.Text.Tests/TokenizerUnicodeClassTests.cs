using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Text.Tokenizers;
using Xunit.Abstractions;

namespace Tunebook.Text.Tests;

/// <summary>
/// The character classes of the pre-tokenizer regexes decide, for every code point U+0000..U+10FFFF (surrogates
/// aside), what node's RegExp with the <c>u</c> flag decides (ICU's Unicode data; what tokenizers.js runs), and
/// the real Llama 3 and Qwen3 tokenizers split text with characters above U+FFFF as tokenizers.js does.
/// </summary>
public class TokenizerUnicodeClassTests(ITestOutputHelper output)
{
    /// <summary>
    /// (pattern as tokenizer.json writes it, the same class in JavaScript). Oniguruma's <c>\s</c> is Unicode's
    /// White_Space property (JavaScript's own <c>\s</c> adds U+FEFF and lacks U+0085, so tokenizers.js rewrites it
    /// the same way).
    /// </summary>
    static readonly (string Oniguruma, string JavaScript)[] Classes =
    [
        // GPT-2, Llama 3, Qwen2/Qwen3 split patterns, and the Digits and Punctuation pre-tokenizers.
        (@"\p{L}", @"\p{L}"),
        (@"\p{N}", @"\p{N}"),
        (@"\s", @"\p{White_Space}"),
        (@"\S", @"\P{White_Space}"),
        (@"[^\s\p{L}\p{N}]", @"[^\p{White_Space}\p{L}\p{N}]"),
        (@"[^\r\n\p{L}\p{N}]", @"[^\r\n\p{L}\p{N}]"),
        (@"\p{P}|[$+<=>^`|~]", @"\p{P}|[$+<=>^`|~]"),
        (@"\d", @"\p{Nd}"),
        // Every other general category, so that any pattern built from categories is covered.
        (@"\p{Lu}", @"\p{Lu}"), (@"\p{Ll}", @"\p{Ll}"), (@"\p{Lt}", @"\p{Lt}"), (@"\p{Lm}", @"\p{Lm}"), (@"\p{Lo}", @"\p{Lo}"),
        (@"\p{M}", @"\p{M}"), (@"\p{Mn}", @"\p{Mn}"), (@"\p{Mc}", @"\p{Mc}"), (@"\p{Me}", @"\p{Me}"),
        (@"\p{Nd}", @"\p{Nd}"), (@"\p{Nl}", @"\p{Nl}"), (@"\p{No}", @"\p{No}"),
        (@"\p{P}", @"\p{P}"), (@"\p{Pc}", @"\p{Pc}"), (@"\p{Pd}", @"\p{Pd}"), (@"\p{Ps}", @"\p{Ps}"), (@"\p{Pe}", @"\p{Pe}"),
        (@"\p{Pi}", @"\p{Pi}"), (@"\p{Pf}", @"\p{Pf}"), (@"\p{Po}", @"\p{Po}"),
        (@"\p{S}", @"\p{S}"), (@"\p{Sm}", @"\p{Sm}"), (@"\p{Sc}", @"\p{Sc}"), (@"\p{Sk}", @"\p{Sk}"), (@"\p{So}", @"\p{So}"),
        (@"\p{Z}", @"\p{Z}"), (@"\p{Zs}", @"\p{Zs}"), (@"\p{Zl}", @"\p{Zl}"), (@"\p{Zp}", @"\p{Zp}"),
        (@"\p{C}", @"\p{C}"), (@"\p{Cc}", @"\p{Cc}"), (@"\p{Cf}", @"\p{Cf}"), (@"\p{Co}", @"\p{Co}"), (@"\p{Cn}", @"\p{Cn}"),
    ];

    /// <summary>
    /// Assigned characters whose category changed between the two Unicode versions, and the only classes allowed
    /// to see them differently: Unicode 17.0 made U+0295 ʕ an other letter (Lo) instead of a lowercase one (Ll);
    /// it is a letter in both, so \p{L} and every split pattern agree.
    /// </summary>
    static readonly Dictionary<int, string[]> Reclassified = new() { [0x0295] = [@"\p{Ll}", @"\p{Lo}"] };

    const int CodePoints = 0x110000 - 0x800; // every scalar value: U+0000..U+10FFFF without the 2,048 surrogates

    static bool IsScalar(int cp) => cp is < 0xD800 or > 0xDFFF;

    [Fact]
    public void Regex_classes_agree_with_javascript_on_every_code_point()
    {
        var request = new JsonObject { ["classes"] = new JsonObject(Classes.Select(c => KeyValuePair.Create(c.Oniguruma, (JsonNode?)c.JavaScript))) };
        var answer = JsonNode.Parse(TokenizerReference.Run("node", [TokenizerReference.Script("unicode_classes.mjs")], request.ToJsonString()))!;

        // One string holding every scalar value once, and where each one starts in it.
        var all = new StringBuilder(2 * CodePoints);
        var codePointAt = new int[2 * CodePoints];
        for (int cp = 0; cp < 0x110000; cp++)
        {
            if (!IsScalar(cp)) continue;
            codePointAt[all.Length] = cp;
            all.Append(char.ConvertFromUtf32(cp));
        }
        var text = all.ToString();

        // .NET's Unicode data and node's ICU may be different Unicode versions: the only differences tolerated are
        // code points that the older of the two leaves unassigned.
        var jsUnassigned = Membership(answer["unassigned"]!.AsArray());
        var netUnassigned = new bool[0x110000];
        for (int cp = 0; cp < 0x110000; cp++)
            netUnassigned[cp] = IsScalar(cp) && CharUnicodeInfo.GetUnicodeCategory(cp) == UnicodeCategory.OtherNotAssigned;
        int jsAssigned = CodePoints - jsUnassigned.Count(u => u), netAssigned = CodePoints - netUnassigned.Count(u => u);
        var olderUnassigned = netAssigned <= jsAssigned ? netUnassigned : jsUnassigned;
        output.WriteLine($"node {answer["unicode"]} (ICU {answer["icu"]}): {jsAssigned} assigned; .NET {Environment.Version}: {netAssigned} assigned");

        var failures = new List<string>();
        var tolerated = new HashSet<int>();
        var reclassified = new HashSet<int>();
        foreach (var (oniguruma, _) in Classes)
        {
            var expected = Membership(answer["classes"]![oniguruma]!.AsArray());
            var actual = new bool[0x110000];
            foreach (var (start, end) in Matches(oniguruma, text))
            {
                int cp = codePointAt[start];
                Assert.Equal(char.ConvertFromUtf32(cp).Length, end - start); // one match is one whole code point
                actual[cp] = true;
            }
            var wrong = new List<int>();
            for (int cp = 0; cp < 0x110000; cp++)
            {
                if (expected[cp] == actual[cp]) continue;
                if (olderUnassigned[cp]) tolerated.Add(cp);
                else if (Reclassified.TryGetValue(cp, out var classes) && classes.Contains(oniguruma)) reclassified.Add(cp);
                else wrong.Add(cp);
            }
            if (wrong.Count > 0)
                failures.Add($"{oniguruma}: {wrong.Count} code points differ, e.g. " + string.Join(", ", wrong.Take(8).Select(cp =>
                    $"U+{cp:X4} (node {(expected[cp] ? "in" : "out")}, .NET category {CharUnicodeInfo.GetUnicodeCategory(cp)})")));
        }
        output.WriteLine($"{Classes.Length} classes × {CodePoints} code points; {tolerated.Count} code points differ only because they are unassigned " +
            $"in the older Unicode version; reclassified: {string.Join(", ", reclassified.Select(cp => $"U+{cp:X4}"))}");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        // What is tolerated is exactly the characters the newer version added, never a reclassified one.
        Assert.All(tolerated, cp => Assert.False(jsUnassigned[cp] && netUnassigned[cp]));
    }

    /// <summary>Non-empty matches of a tokenizer.json regex, through the library's own (internal) Pattern type.</summary>
    static List<(int Start, int End)> Matches(string oniguruma, string text)
    {
        var type = typeof(Tokenizer).Assembly.GetType("Tunebook.Text.Tokenizers.Pattern")!;
        var pattern = type.GetMethod("FromRegex")!.Invoke(null, [oniguruma])!;
        return (List<(int, int)>)type.GetMethod("Matches")!.Invoke(pattern, [text])!;
    }

    static bool[] Membership(JsonArray ranges)
    {
        var inside = new bool[0x110000];
        for (int i = 0; i < ranges.Count; i += 2)
            for (int cp = (int)ranges[i]!; cp <= (int)ranges[i + 1]!; cp++) inside[cp] = true;
        return inside;
    }

    [Fact]
    public void Characters_above_U_FFFF_are_one_character_of_their_own_category()
    {
        // 𝟘 is a digit: Llama 3's "\p{N}{1,3}" takes three of them, not one and a half.
        Assert.Equal([(0, 6), (6, 8)], Matches(@"\p{N}{1,3}", "𝟘𝟙𝟚𝟛"));
        const string words = @"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+|\s+";
        Assert.Equal([(0, 1), (1, 2), (2, 4)], Matches(words, "a 𝟘"));
        // A lone surrogate stays one character of category Cs: not a letter, so it leads the next word.
        Assert.Equal([(0, 4), (4, 7)], Matches(words, "𐌰𐌱\uD800𐐀"));
        var standInFor = typeof(Tokenizer).Assembly.GetType("Tunebook.Text.Tokenizers.CodePointRegex")!.GetMethod("StandInFor",
            System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)!;
        foreach (var category in Enum.GetValues<UnicodeCategory>())
        {
            char standIn = (char)standInFor.Invoke(null, [category])!;
            Assert.Equal(category, char.GetUnicodeCategory(standIn));
            // Controls all lie below U+00A0; no character above U+FFFF is one.
            if (category != UnicodeCategory.Control) Assert.True(standIn > 0xFF, $"{category}: stand-in U+{(int)standIn:X4} is in Latin-1");
        }
    }

    /// <summary>Text with characters above U+FFFF: math digits and letters, emoji, CJK Extension B, Gothic, Deseret.</summary>
    static readonly string[] SupplementaryTexts =
    [
        "a 𝟘",
        "𝟘𝟙𝟚𝟛𝟜𝟝𝟞𝟟𝟠𝟡",
        "x𝟘 12𝟘3 𝟘.5 -𝟙",
        "𝐀𝐁𝐂 𝑥+𝑦=𝑧 𝔸𝔹",
        "hi 😀👍🏽 ok 👨‍👩‍👧 family 🏴󠁧󠁢󠁳󠁣󠁴󠁿",
        "𠀀𠀁𠀂 𪚥 the 𠮷野家 shop",
        "𐌰𐌱𐌲 𐌳𐌴 Gothic",
        "𐐀𐐨𐐷 𐐔𐐯𐑅𐐨𐑉𐐯𐐻 Deseret's 𐐀's",
        "𝄞 music 𐄇𐄈 𐅀 Aegean",
        "  𝟘\n\n𝟙  \t😀\r\n",
        "e\u0301 𝟘 e\u0301𝟙",
        "private \U000F0000\U0010FFFD use",
        "(𝟘) [😀] {𐌰}",
    ];

    [Theory]
    [InlineData("llama3")]
    [InlineData("qwen3")]
    [InlineData("llama2")]
    public void Supplementary_plane_text_tokenizes_as_huggingface_tokenizers(string model)
    {
        var tokenizer = TokenizerParityTests.Load(model);
        var folder = TokenizerReference.ModelFolder(model);
        var expected = TokenizerReference.HuggingFace(Path.Combine(folder, "tokenizer.json"), Path.Combine(folder, "tokenizer_config.json"),
            SupplementaryTexts, addSpecialTokens: false);
        TokenizerReference.AssertSameIds(SupplementaryTexts, expected.Ids,
            tokenizer.EncodeBatch(SupplementaryTexts, addSpecialTokens: false).Select(e => e.Ids).ToList(), tokenizer.IdToToken);
    }
}
