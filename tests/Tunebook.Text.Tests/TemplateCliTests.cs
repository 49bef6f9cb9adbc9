using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Text.Templates;
using static Tunebook.Text.Tests.Templates.TemplateReference;

namespace Tunebook.Text.Tests.Templates;

/// <summary>./tunebook chat-template: JSON lines in, JSON strings out.</summary>
public class TemplateCliTests
{
    static readonly string Qwen3Folder = Path.GetDirectoryName(JinjaChatTemplateParityTests.ConfigPath("qwen3"))!;

    [Fact]
    public void Renders_each_input_line_as_one_json_string()
    {
        var template = ChatTemplate.FromTokenizerConfig(Qwen3Folder);
        var input = new StringReader("[{\"role\": \"user\", \"content\": \"Hi ✓\"}]\n\n[{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"b\"}]\n");
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, ChatTemplateCli.Run(template, addGenerationPrompt: true, input, output, error));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Equal("<|im_start|>user\nHi ✓<|im_end|>\n<|im_start|>assistant\n", JsonSerializer.Deserialize<string>(lines[0], Tunebook.Tests.TestJson.Options));
        Assert.StartsWith("<|im_start|>user\na<|im_end|>\n<|im_start|>assistant\n", JsonSerializer.Deserialize<string>(lines[1], Tunebook.Tests.TestJson.Options));
        Assert.Equal("", error.ToString());
    }

    [Fact]
    public void Object_lines_carry_tools_and_other_variables()
    {
        var template = ChatTemplate.FromTokenizerConfig(Qwen3Folder);
        var line = "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"tools\": [{\"name\": \"f\"}], \"enable_thinking\": false, \"add_generation_prompt\": true}";
        var output = new StringWriter();
        var error = new StringWriter();
        int code = ChatTemplateCli.Run(template, addGenerationPrompt: false, new StringReader(line), output, error);
        Assert.True(code == 0, error.ToString());
        var text = JsonSerializer.Deserialize<string>(output.ToString().Trim(), Tunebook.Tests.TestJson.Options)!;
        var expected = template.Render(JsonNode.Parse("[{\"role\": \"user\", \"content\": \"Hi\"}]")!, addGenerationPrompt: true,
            new Dictionary<string, object?> { ["tools"] = JsonNode.Parse("[{\"name\": \"f\"}]"), ["enable_thinking"] = false });
        Assert.Equal(expected, text);
        Assert.Contains("<tools>\n{\"name\": \"f\"}\n</tools>", text);
        Assert.EndsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n", text);
    }

    [Theory]
    [InlineData("not json", "stdin line 1: invalid JSON")]
    [InlineData("{\"role\": \"user\"}", "stdin line 1: expected a JSON array")]
    [InlineData("[{\"role\": \"user\", \"content\": null}]", "stdin line 1: chat template line")]
    public void Bad_lines_are_reported_with_their_line_number(string line, string message)
    {
        var template = ChatTemplate.FromTokenizerConfig(Qwen3Folder);
        var error = new StringWriter();
        Assert.Equal(1, ChatTemplateCli.Run(template, false, new StringReader(line), new StringWriter(), error));
        Assert.StartsWith(message, error.ToString());
    }

    /// <summary>The real command line, when the CLI has been built (make build does; `make test` always has).</summary>
    [Fact]
    public void Command_line_round_trip()
    {
        var dll = Path.Combine(RepoRoot, "src/Tunebook.Cli/bin/Release/net10.0/tunebook.dll");
        Assert.True(File.Exists(dll), $"build the CLI first (make build): {dll} is missing");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { dll, "chat-template", "--tokenizer", Qwen3Folder, "--add-generation-prompt" }) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        process.StandardInput.WriteLine("[{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", \"content\": \"U\"}]");
        process.StandardInput.Close();
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, stderr);
        Assert.Equal("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n", JsonSerializer.Deserialize<string>(stdout.Trim(), Tunebook.Tests.TestJson.Options));
    }
}
