using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Tunebook.Starter.Tests;

/// <summary>datasets/samples: every good file holds the same five examples (read with independent standard
/// parsers), and every broken file is broken exactly where datasets/samples/README.md says.</summary>
public class StarterSamplesTests
{
    static string Sample(string name) => StarterTestSupport.Datasets("samples", name);

    static (string Instruction, string Input, string Output)[] Alpaca() =>
        File.ReadAllLines(Sample("alpaca.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => (e.GetProperty("instruction").GetString()!, e.GetProperty("input").GetString()!, e.GetProperty("output").GetString()!))
            .ToArray();

    static string User((string Instruction, string Input, string Output) e) => e.Input == "" ? e.Instruction : $"{e.Instruction}\n\n{e.Input}";

    [Fact]
    public void Every_format_holds_the_same_five_examples()
    {
        var expected = Alpaca();
        Assert.Equal(5, expected.Length);

        var array = JsonDocument.Parse(File.ReadAllText(Sample("alpaca.json"))).RootElement.EnumerateArray()
            .Select(e => (e.GetProperty("instruction").GetString()!, e.GetProperty("input").GetString()!, e.GetProperty("output").GetString()!)).ToArray();
        Assert.Equal(expected, array);

        var rows = ReadCsv("alpaca.csv");
        Assert.Equal(["instruction", "input", "output"], rows[0].Fields);
        Assert.Equal(expected, rows.Skip(1).Select(r => (r.Fields[0], r.Fields[1], r.Fields[2])).ToArray());

        var chat = File.ReadAllLines(Sample("chat.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("messages")).ToArray();
        var completion = File.ReadAllLines(Sample("completion.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        var paragraphs = File.ReadAllText(Sample("text.txt")).TrimEnd('\n').Split("\n\n");
        for (int i = 0; i < 5; i++)
        {
            var messages = chat[i].EnumerateArray().ToList();
            var user = messages.Single(m => m.GetProperty("role").GetString() == "user");
            var assistant = messages.Single(m => m.GetProperty("role").GetString() == "assistant");
            Assert.Equal(User(expected[i]), user.GetProperty("content").GetString());
            Assert.Equal(expected[i].Output, assistant.GetProperty("content").GetString());
            Assert.Equal(User(expected[i]) + "\n", completion[i].GetProperty("prompt").GetString());
            Assert.Equal(expected[i].Output, completion[i].GetProperty("completion").GetString());
        }
        // Plain text: paragraphs split on blank lines; the Summarize input has no blank line inside, so each
        // example is one paragraph ending with its output.
        Assert.Equal(5, paragraphs.Length);
        for (int i = 0; i < 5; i++) Assert.EndsWith(expected[i].Output, paragraphs[i]);

        // The samples exercise the awkward cases they claim to.
        Assert.Contains(expected, e => e.Input.Contains(',') && e.Input.Contains('\n'));
        Assert.Contains(expected, e => e.Instruction.Contains('"'));
        Assert.Contains(expected, e => e.Output.Any(c => c > 127));
        Assert.Contains(expected, e => e.Input == "");
    }

    /// <summary>Records of a CSV file as Python's csv module reads them, with the line each starts on.</summary>
    static List<(int Line, string[] Fields)> ReadCsv(string name)
    {
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(StarterTestSupport.RepoRoot, "tests", "Tunebook.Starter.Tests", "StarterCsvReference.py"));
        psi.ArgumentList.Add(Sample(name));
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, process.StandardError.ReadToEnd());
        return JsonDocument.Parse(output).RootElement.EnumerateArray()
            .Select(r => (r.GetProperty("line").GetInt32(), r.GetProperty("fields").EnumerateArray().Select(f => f.GetString()!).ToArray()))
            .ToList();
    }

    [Fact]
    public void Broken_jsonl_files_fail_on_the_documented_line_and_field()
    {
        int FirstBadLine(string file, Func<JsonElement, bool> valid)
        {
            var lines = File.ReadAllLines(Sample(file));
            for (int i = 0; i < lines.Length; i++)
            {
                try { if (!valid(JsonDocument.Parse(lines[i]).RootElement)) return i + 1; }
                catch (JsonException) { return i + 1; }
            }
            return 0;
        }
        Assert.Equal(3, FirstBadLine("alpaca.bad.jsonl", e => e.TryGetProperty("output", out _)));
        Assert.Equal(2, FirstBadLine("chat.bad.jsonl", e => e.GetProperty("messages").EnumerateArray().All(m => m.TryGetProperty("role", out _))));
        Assert.Equal(4, FirstBadLine("completion.bad.jsonl", e => e.TryGetProperty("completion", out _)));
    }

    [Fact]
    public void Broken_json_csv_and_text_files_fail_where_documented()
    {
        var elements = JsonDocument.Parse(File.ReadAllText(Sample("alpaca.bad.json"))).RootElement.EnumerateArray().ToList();
        Assert.Equal([1], Enumerable.Range(0, elements.Count).Where(i => !elements[i].TryGetProperty("output", out _)));

        var records = ReadCsv("alpaca.bad.csv");
        var shortRecords = Enumerable.Range(1, records.Count - 1).Where(i => records[i].Fields.Length != 3).Select(i => (i, records[i].Line));
        Assert.Equal([(3, 5)], shortRecords);

        var bytes = File.ReadAllBytes(Sample("text.bad.txt"));
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        var lines = SplitLines(bytes);
        Assert.Equal([3], Enumerable.Range(0, lines.Count).Where(i => !Decodes(strict, lines[i])).Select(i => i + 1));
        Assert.True(Decodes(strict, File.ReadAllBytes(Sample("text.txt"))));
    }

    static List<byte[]> SplitLines(byte[] bytes)
    {
        var lines = new List<byte[]>();
        int start = 0;
        for (int i = 0; i <= bytes.Length; i++)
            if (i == bytes.Length || bytes[i] == (byte)'\n') { lines.Add(bytes[start..i]); start = i + 1; }
        return lines;
    }

    static bool Decodes(Encoding encoding, byte[] bytes)
    {
        try { encoding.GetString(bytes); return true; }
        catch (DecoderFallbackException) { return false; }
    }
}
