using System.Diagnostics;
using System.Text.Json.Nodes;
using Tunebook.Text.Templates;

namespace Tunebook.Text.Tests.Templates;

/// <summary>upper/lower/title in templates case strings like JavaScript does (the reference engine's runtime).</summary>
public class JinjaCaseMappingTests
{
    static JsonObject Reference()
    {
        var psi = new ProcessStartInfo("node", Path.Combine(TemplateReference.RepoRoot, "tests/Tunebook.Text.Tests/reference/jinja_case_mapping.js"))
        {
            RedirectStandardOutput = true, UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        string json = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return JsonNode.Parse(json)!.AsObject();
    }

    [Fact]
    public void Every_bmp_character_cases_like_javascript()
    {
        var reference = Reference();
        var codes = Enumerable.Range(3, 0x10000 - 3).Where(c => c is < 0xd800 or > 0xdfff).ToList();
        // One render over every character: upper and lower of each, separated by control characters.
        var template = ChatTemplate.Parse("{% for c in cs %}{{ c.upper() }}\u0001{{ c|lower }}\u0002{% endfor %}");
        var rendered = template.RenderVariables(new Dictionary<string, object?> { ["cs"] = codes.Select(c => ((char)c).ToString()).ToList() })
            .Split('\u0002');
        var failures = new List<string>();
        for (int i = 0; i < codes.Count; i++)
        {
            int code = codes[i];
            string c = ((char)code).ToString();
            string expectedUpper = reference["upper"]![code.ToString()]?.GetValue<string>() ?? c;
            string expectedLower = reference["lower"]![code.ToString()]?.GetValue<string>() ?? c;
            var pair = rendered[i].Split('\u0001');
            string upper = pair[0], lower = pair[1];
            if (upper != expectedUpper) failures.Add($"U+{code:X4} upper: expected {Hex(expectedUpper)} got {Hex(upper)}");
            if (lower != expectedLower) failures.Add($"U+{code:X4} lower: expected {Hex(expectedLower)} got {Hex(lower)}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} differences:\n" + string.Join("\n", failures.Take(60)));
        Assert.Equal("STRASSE", ChatTemplate.Parse("{{ 'Straße'|upper }}").RenderVariables(new Dictionary<string, object?>()));
    }

    static string Hex(string s) => string.Join(" ", s.Select(ch => $"{(int)ch:X4}"));
}
