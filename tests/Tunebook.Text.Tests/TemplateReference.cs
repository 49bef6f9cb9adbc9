using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Text.Templates;

namespace Tunebook.Text.Tests.Templates;

/// <summary>One render to compare against @huggingface/jinja.</summary>
public sealed record ParityCase(
    string Id, string Template, JsonArray? Messages = null, bool AddGenerationPrompt = false,
    JsonObject? SpecialTokens = null, JsonObject? Kwargs = null)
{
    public override string ToString() => Id;
}

/// <summary>Runs the reference engine (node + @huggingface/jinja) once for a whole batch of cases.</summary>
public static class TemplateReference
{
    /// <summary>The instant strftime_now sees on both sides (UTC): 2024-07-23 14:05.</summary>
    public static readonly DateTimeOffset Now = new(2024, 7, 23, 14, 5, 0, TimeSpan.Zero);

    public static string RepoRoot { get; } = typeof(TemplateReference).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "RepoRoot").Value!;

    public sealed record Result(bool Ok, string? Output, string? Error);

    public static Dictionary<string, Result> Run(IEnumerable<ParityCase> cases)
    {
        var payload = new JsonObject
        {
            ["now"] = Now.ToUnixTimeMilliseconds(),
            ["cases"] = new JsonArray(cases.Select(c => (JsonNode)new JsonObject
            {
                ["id"] = c.Id,
                ["template"] = c.Template,
                ["messages"] = c.Messages?.DeepClone() ?? new JsonArray(),
                ["add_generation_prompt"] = c.AddGenerationPrompt,
                ["special_tokens"] = c.SpecialTokens?.DeepClone() ?? new JsonObject(),
                ["kwargs"] = c.Kwargs?.DeepClone() ?? new JsonObject(),
            }).ToArray()),
        };
        var psi = new ProcessStartInfo("node", Path.Combine(RepoRoot, "tests/Tunebook.Text.Tests/reference/jinja_render.js"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["TZ"] = "UTC";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(payload.ToJsonString());
        process.StandardInput.Close();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"reference renderer failed: {stderr.Result}");
        var results = JsonNode.Parse(stdout.Result)!.AsArray();
        return results.ToDictionary(
            r => r!["id"]!.GetValue<string>(),
            r => new Result(r!["ok"]!.GetValue<bool>(), r["output"]?.GetValue<string>(), r["error"]?.GetValue<string>()));
    }

    /// <summary>Renders a case with Tunebook's engine through the public API.</summary>
    public static string RenderOurs(ParityCase c)
    {
        var tokens = c.SpecialTokens?.ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>()) ?? [];
        var template = ChatTemplate.Parse(c.Template).WithSpecialTokens(tokens).WithClock(new FixedClock(Now));
        var extra = c.Kwargs?.ToDictionary(kv => kv.Key, kv => (object?)kv.Value?.DeepClone());
        return template.Render(c.Messages ?? new JsonArray(), c.AddGenerationPrompt, extra);
    }

    /// <summary>Asserts Tunebook renders exactly what the reference renders, or fails where it fails.</summary>
    public static void AssertParity(ParityCase c, Result expected)
    {
        if (expected.Ok)
        {
            string actual;
            try { actual = RenderOurs(c); }
            catch (TemplateException e) { throw new Xunit.Sdk.XunitException($"{c.Id}: reference rendered {JsonSerializer.Serialize(expected.Output, Tunebook.Tests.TestJson.Options)} but we failed: {e.Message}"); }
            Assert.Equal(expected.Output, actual);
        }
        else
        {
            var e = Assert.Throws<TemplateException>(() => RenderOurs(c));
            Assert.False(string.IsNullOrWhiteSpace(e.Reason));
        }
    }

    public static JsonArray Json(string json) => JsonNode.Parse(json)!.AsArray();
    public static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();
}

/// <summary>A clock stopped at one instant, in UTC.</summary>
public sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
}
