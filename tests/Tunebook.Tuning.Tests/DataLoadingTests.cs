using System.Text.Json.Nodes;
using Tunebook.Tuning.Data;
using static Tunebook.Tuning.Tests.DataFixtures;

namespace Tunebook.Tuning.Tests;

public class DataLoadingTests
{
    // The five examples every sample file holds, as written in datasets/samples/README.md.
    static readonly (string Instruction, string Input, string Output)[] Expected =
    [
        ("Name the three primary colors of paint.", "", "Red, yellow and blue."),
        ("Summarize the text in one sentence.", "The library opens at nine. It closes at six on weekdays,\nand at noon on Saturdays.",
            "The library opens at nine and closes at six on weekdays, or at noon on Saturdays."),
        ("Translate the sentence into French.", "Where is the station?", "Où est la gare ?"),
        ("Write a haiku about rain.", "", "Soft rain on the roof,\nthe garden drinks quietly,\nclouds drift to the sea."),
    ];

    [Theory]
    [InlineData("alpaca.jsonl")]
    [InlineData("alpaca.json")]
    [InlineData("alpaca.csv")]
    public void Alpaca_files_in_every_container_load_the_same_examples(string file)
    {
        var data = Dataset.Load(Sample(file));
        Assert.Equal(DataFormat.Alpaca, data.Format);
        Assert.Equal(5, data.Count);
        for (int i = 0; i < Expected.Length; i++)
        {
            Assert.Equal(Expected[i].Instruction, data[i].Instruction);
            Assert.Equal(Expected[i].Input, data[i].Input);
            Assert.Equal(Expected[i].Output, data[i].Output);
            Assert.Equal(i, data[i].Index);
        }
        Assert.Contains("\"overfitting\"", data[4].Instruction);
        var reference = Dataset.Load(Sample("alpaca.jsonl"));
        Assert.Equal(reference[4].Output, data[4].Output);
    }

    [Fact]
    public void Csv_rows_know_the_line_they_start_on_even_after_multi_line_fields()
    {
        var data = Dataset.Load(Sample("alpaca.csv"));
        // Header on line 1; record 2 spans lines 3–4; the haiku spans lines 6–8.
        Assert.Equal([2, 3, 5, 6, 9], data.Select(r => r.Location.Line!.Value).ToArray());
        Assert.Equal([0, 1, 2, 3, 4], Dataset.Load(Sample("alpaca.json")).Select(r => r.Location.ArrayIndex!.Value).ToArray());
        Assert.Equal([1, 2, 3, 4, 5], Dataset.Load(Sample("alpaca.jsonl")).Select(r => r.Location.Line!.Value).ToArray());
    }

    [Fact]
    public void Chat_and_completion_samples_are_detected()
    {
        var chat = Dataset.Load(Sample("chat.jsonl"));
        Assert.Equal(DataFormat.Chat, chat.Format);
        Assert.Equal(5, chat.Count);
        Assert.Equal(["system", "user", "assistant"], chat[0].Messages!.Select(m => m.Role).ToArray());
        Assert.Equal("Translate the sentence into French.\n\nWhere is the station?", chat[2].Messages![0].Content);

        var completion = Dataset.Load(Sample("completion.jsonl"));
        Assert.Equal(DataFormat.PromptCompletion, completion.Format);
        Assert.Equal("Name the three primary colors of paint.\n", completion[0].Prompt);
        Assert.Equal("Où est la gare ?", completion[2].Completion);
    }

    [Fact]
    public void Plain_text_splits_by_blank_lines_lines_or_whole_document()
    {
        var paragraphs = Dataset.Load(Sample("text.txt"));
        Assert.Equal(DataFormat.Text, paragraphs.Format);
        Assert.Equal(5, paragraphs.Count);
        Assert.Equal("Name the three primary colors of paint.\nRed, yellow and blue.", paragraphs[0].Text);
        Assert.Equal([1, 4, 9, 13, 18], paragraphs.Select(r => r.Location.Line!.Value).ToArray());

        var path = Write("notes.txt", "first line\r\nsecond line\r\n\r\n\r\nthird\n");
        var lines = Dataset.Load(path, options: new LoadOptions { TextSplit = TextSplit.Lines });
        Assert.Equal(["first line", "second line", "third"], lines.Select(r => r.Text!).ToArray());
        Assert.Equal([1, 2, 5], lines.Select(r => r.Location.Line!.Value).ToArray());
        var document = Dataset.Load(path, options: new LoadOptions { TextSplit = TextSplit.Document });
        Assert.Equal("first line\nsecond line\n\n\nthird", Assert.Single(document).Text);
    }

    [Fact]
    public void Json_object_with_a_data_array_and_ShareGPT_conversations_are_accepted()
    {
        var path = Write("sharegpt.json", """
            {"data": [{"conversations": [{"from": "system", "value": "Be brief."}, {"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello!"}]}]}
            """);
        var data = Dataset.Load(path);
        Assert.Equal(DataFormat.Chat, data.Format);
        Assert.Equal([("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello!")], data[0].Messages!.Select(m => (m.Role, m.Content!)).ToArray());

        var bad = Write("sharegpt-bad.jsonl", """{"conversations": [{"from": "human", "value": "Hi"}, {"from": "robot", "value": "Hello"}]}""" + "\n");
        var e = Assert.Throws<DataLoadException>(() => Dataset.Load(bad));
        Assert.Equal($"{bad} line 1: field 'conversations[1].from' must be one of human, gpt, system, tool (or user, assistant); got 'robot'", e.Message);
    }

    [Theory]
    [InlineData("alpaca.bad.jsonl", 3, null, null, "is not valid JSON")]
    [InlineData("chat.bad.jsonl", 2, null, "messages[0].role", "is missing")]
    [InlineData("completion.bad.jsonl", 4, null, "completion", "is missing")]
    [InlineData("alpaca.bad.json", null, 1, "output", "is missing")]
    [InlineData("alpaca.bad.csv", 5, null, null, "has 2 fields but the header has 3 (instruction, input, output)")]
    [InlineData("text.bad.txt", 3, null, null, "is not valid UTF-8")]
    public void Bad_rows_are_reported_with_file_place_and_field(string file, int? line, int? index, string? field, string problem)
    {
        var path = Sample(file);
        var e = Assert.Throws<DataLoadException>(() => Dataset.Load(path));
        Assert.Equal(path, e.Location.File);
        Assert.Equal(line, e.Location.Line);
        Assert.Equal(index, e.Location.ArrayIndex);
        Assert.Equal(field, e.Field);
        Assert.StartsWith(problem, e.Problem);
        string where = line is { } l ? $"{path} line {l}" : $"{path} [{index}]";
        Assert.StartsWith(field is null ? $"{where}: {problem}" : $"{where}: field '{field}' {problem}", e.Message);
    }

    [Fact]
    public void A_bad_role_names_the_message_and_the_allowed_roles()
    {
        var path = Write("train.jsonl", Lines(
            Chat(("user", "Hi"), ("assistant", "Hello")),
            Chat(("system", "S"), ("user", "Hi"), ("bot", "Hello"))));
        var e = Assert.Throws<DataLoadException>(() => Dataset.Load(path));
        Assert.Equal($"{path} line 2: field 'messages[2].role' must be one of system, user, assistant, tool; got 'bot'", e.Message);
    }

    [Fact]
    public void Skipping_bad_rows_keeps_the_good_ones_and_lists_the_bad()
    {
        var all = Assert.Throws<DataLoadException>(() => Dataset.Load(Sample("completion.bad.jsonl")));
        Assert.Equal(4, all.Location.Line);

        var data = Dataset.Load(Sample("completion.bad.jsonl"), options: new LoadOptions { SkipBadRows = true });
        Assert.Equal(4, data.Count);
        Assert.Equal([1, 2, 3, 5], data.Select(r => r.Location.Line!.Value).ToArray());
        Assert.Equal([0, 1, 2, 3], data.Select(r => r.Index).ToArray());
        var skipped = Assert.Single(data.SkippedRows);
        Assert.Equal(4, skipped.Location.Line);
        Assert.Equal("completion", skipped.Field);

        var csv = Dataset.Load(Sample("alpaca.bad.csv"), options: new LoadOptions { SkipBadRows = true });
        Assert.Equal(4, csv.Count);
        Assert.Equal(5, Assert.Single(csv.SkippedRows).Location.Line);
    }

    [Fact]
    public void Format_detection_explains_unknown_and_ambiguous_fields()
    {
        var none = Write("none.jsonl", """{"question": "q", "answer": "a"}""" + "\n");
        var e = Assert.Throws<DataLoadException>(() => Dataset.Load(none));
        Assert.Contains("cannot tell the data format from the fields (question, answer)", e.Message);
        Assert.Contains("prompt/completion", e.Message);

        var both = Write("both.jsonl", """{"prompt": "p", "completion": "c", "text": "t"}""" + "\n");
        var ambiguous = Assert.Throws<DataLoadException>(() => Dataset.Load(both));
        Assert.Contains("fit more than one format: PromptCompletion (prompt/completion) and Text (text)", ambiguous.Message);
        Assert.Equal(DataFormat.Text, Dataset.Load(both, DataFormat.Text).Format);
        Assert.Equal("p", Dataset.Load(both, DataFormat.PromptCompletion)[0].Prompt);

        // A format given explicitly is checked on every row.
        var wrong = Assert.Throws<DataLoadException>(() => Dataset.Load(Sample("alpaca.jsonl"), DataFormat.Chat));
        Assert.Equal("messages", wrong.Field);
    }

    [Fact]
    public void Field_types_are_checked()
    {
        var path = Write("types.jsonl", Lines(
            new JsonObject { ["instruction"] = "i", ["output"] = "o" },
            new JsonObject { ["instruction"] = "i", ["output"] = 3 }));
        var e = Assert.Throws<DataLoadException>(() => Dataset.Load(path));
        Assert.Equal($"{path} line 2: field 'output' must be a string, got a number", e.Message);

        var content = Write("content.jsonl", """{"messages": [{"role": "user", "content": {"x": 1}}]}""" + "\n");
        Assert.Equal("messages[0].content", Assert.Throws<DataLoadException>(() => Dataset.Load(content)).Field);
    }

    [Fact]
    public void Csv_can_hold_conversations_as_json_cells()
    {
        var path = Write("chat.csv", "messages\n\"[{\"\"role\"\": \"\"user\"\", \"\"content\"\": \"\"Hi, you\"\"}, {\"\"role\"\": \"\"assistant\"\", \"\"content\"\": \"\"Hello\"\"}]\"\n");
        var data = Dataset.Load(path);
        Assert.Equal(DataFormat.Chat, data.Format);
        Assert.Equal("Hi, you", data[0].Messages![0].Content);
    }

    [Fact]
    public void Tsv_and_malformed_csv_quoting()
    {
        var tsv = Write("pairs.tsv", "prompt\tcompletion\nSay hi, please\thi, there\n");
        var data = Dataset.Load(tsv);
        Assert.Equal(DataFormat.PromptCompletion, data.Format);
        Assert.Equal("Say hi, please", data[0].Prompt);
        Assert.Equal("hi, there", data[0].Completion);

        var bad = Write("bad.csv", "instruction,input,output\nok,,fine\n\"unterminated,,x\n");
        var e = Assert.Throws<DataLoadException>(() => Dataset.Load(bad));
        Assert.Equal(bad, e.Location.File);
        Assert.Contains("cannot be parsed as CSV", e.Message);
    }

    [Fact]
    public void Empty_files_and_unknown_extensions_are_errors()
    {
        Assert.Contains("no examples", Assert.Throws<InvalidDataException>(() => Dataset.Load(Write("empty.jsonl", "\n\n"))).Message);
        Assert.Contains("unknown data file type '.parquet'", Assert.Throws<InvalidDataException>(() => Dataset.Load(Write("x.parquet", "x"))).Message);
        Assert.Throws<FileNotFoundException>(() => Dataset.Load(Path.Combine(Tiny.TempDir(), "missing.jsonl")));
        var e = Assert.Throws<DataLoadException>(() => Dataset.Load(Write("broken.json", "[\n {\"text\": \"a\"},\n {\"text\": }\n]")));
        Assert.Equal(3, e.Location.Line);
    }

    [Fact]
    public void A_folder_of_text_files_is_one_document_per_file()
    {
        var folder = Tiny.TempDir();
        File.WriteAllText(Path.Combine(folder, "b.txt"), "Second document.\n\nStill the second.");
        File.WriteAllText(Path.Combine(folder, "a.txt"), "First document.");
        File.WriteAllText(Path.Combine(folder, "notes.bin"), "ignored");
        var data = Dataset.Load(folder, options: new LoadOptions { TextSplit = TextSplit.Document });
        Assert.Equal(["First document.", "Second document.\n\nStill the second."], data.Select(r => r.Text!).ToArray());
        Assert.Equal(Path.Combine(folder, "b.txt"), data[1].Location.File);
        Assert.Equal([0, 1], data.Select(r => r.Index).ToArray());
    }
}
