using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Tunebook.Tuning.Data;
using Tunebook.Tuning.Data.Quality;
using static Tunebook.Tuning.Tests.DataFixtures;

namespace Tunebook.Tuning.Tests;

/// <summary>Secrets and personal data: each shape found, look-alikes set aside, redaction in memory only.</summary>
public class DataQualitySensitiveTests
{
    // Every value here is made up; none is a real credential or a real person's address.
    public static TheoryData<string, string, string> Shapes => new()
    {
        { "AWS access key", "aws_access_key_id=AKIAZ7Q3FAKE4DEMO2KX in the env", "AKIAZ7Q3FAKE4DEMO2KX" },
        { "GitHub token", "token ghp_Fake0Demo1Token2For3Puddle4Samples5Xy was pasted", "ghp_Fake0Demo1Token2For3Puddle4Samples5Xy" },
        { "GitHub token", "use github_pat_11FAKE0DEMO_abcdefghij0123456789XYZ here", "github_pat_11FAKE0DEMO_abcdefghij0123456789XYZ" },
        { "GitLab token", "CI uses glpat-Fake0Demo1Token2ForTests now", "glpat-Fake0Demo1Token2ForTests" },
        { "Slack token", "bot xoxb-1234567890-fake0demo1token here", "xoxb-1234567890-fake0demo1token" },
        { "API key (sk-…, OpenAI/Anthropic style)", "OPENAI key sk-proj-Fake0Demo1Key2ForTests3Only4", "sk-proj-Fake0Demo1Key2ForTests3Only4" },
        { "API key (sk-…, OpenAI/Anthropic style)", "claude: sk-ant-api03-Fake0Demo1Key2ForTests3Only", "sk-ant-api03-Fake0Demo1Key2ForTests3Only" },
        { "Google API key", "maps key AIzaSyFake0Demo1Key2ForTests3Only4Abcd5 ok", "AIzaSyFake0Demo1Key2ForTests3Only4Abcd5" },
        { "private key block", "-----BEGIN RSA PRIVATE KEY-----\nMIIFakeDemo\n-----END RSA PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----\nMIIFakeDemo\n-----END RSA PRIVATE KEY-----" },
        { "JSON web token", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlIn0.Zm9vYmFyYmF6cXV4 sent", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlIn0.Zm9vYmFyYmF6cXV4" },
        { "password in a URL", "DATABASE_URL=postgres://admin:Fake0Pass9@db.internal:5432/app", "Fake0Pass9" },
        { "high-entropy value after key/secret/token/password", "client_secret: 9fK2xQ7vLm3Zp8Rt", "9fK2xQ7vLm3Zp8Rt" },
        { "e-mail address", "Write to ana.moreau@fernhollow-gardens.net today.", "ana.moreau@fernhollow-gardens.net" },
        { "phone number", "call +44 20 7946 0958 between 9 and 5", "+44 20 7946 0958" },
        { "phone number", "or (555) 123-4567 after hours", "(555) 123-4567" },
        { "IPv4 address", "the controller is at 192.168.40.17 on the LAN", "192.168.40.17" },
        { "IPv6 address", "reach it on 2001:db8:85a3::8a2e:370:7334 too", "2001:db8:85a3::8a2e:370:7334" },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Each_shape_is_found_with_its_value(string kind, string text, string value)
    {
        var m = Assert.Single(SensitiveData.Find(text));
        Assert.Equal(kind, m.Kind.Name);
        Assert.Equal(value, m.Value);
        Assert.Equal(value, text.Substring(m.Start, m.Length));
        Assert.Equal(text.Replace(value, m.Kind.Placeholder), SensitiveData.Redact(text, [m]));
    }

    [Theory]
    [InlineData("the AWS docs use AKIAIOSFODNN7EXAMPLE as an example key")]
    [InlineData("write to user@example.com or admin@mail.example.org")]
    [InlineData("clone git@github.com:owner/repo.git first")]
    [InlineData("the icon is logo@2x.png")]
    [InlineData("released as version 1.2.3.4 and v2.0.1.7")]
    [InlineData("listen on 127.0.0.1 or 0.0.0.0 with mask 255.255.255.0")]
    [InlineData("on 2024-01-15 at 12:30:45")]
    [InlineData("std::vector<int> and Foo::Bar")]
    [InlineData("ISBN 978-3-16-148410-0, order 123456789012")]
    [InlineData("api_key = YOUR_API_KEY_HERE")]
    [InlineData("password: ********, token = xxxxxxxxxxxxxxxxxxxx")]
    [InlineData("export TOKEN=${GITHUB_TOKEN}")]
    [InlineData("https://user:${PASSWORD}@host.internal/ and https://me:password@host.internal/")]
    [InlineData("pip install sk-learn-compatible-transformers-pipeline")]
    [InlineData("Run `puddle schedule add lawn --at 06:30` for 5 minutes")]
    public void Common_look_alikes_are_not_findings(string text) => Assert.Empty(SensitiveData.Find(text));

    [Fact]
    public void Overlapping_shapes_are_reported_once_by_the_stronger_one()
    {
        // A GitHub token after "token =": one finding, the specific shape.
        var m = Assert.Single(SensitiveData.Find("token = ghp_Fake0Demo1Token2For3Puddle4Samples5Xy"));
        Assert.Equal(SensitiveData.GitHubToken, m.Kind);
    }

    [Fact]
    public void Findings_name_file_line_and_field()
    {
        var path = Write("pii.jsonl", Lines(
            Chat(("user", "Who fixes the pump?"), ("assistant", "Mail ana.moreau@fernhollow-gardens.net.")),
            Chat(("user", "hi"), ("assistant", "nothing to see")),
            Chat(("user", "My key is AKIAZ7Q3FAKE4DEMO2KX, is that ok?"), ("assistant", "Never paste keys."))));
        var report = DataChecks.Run(Dataset.Load(path)).Sensitive;
        Assert.Equal(2, report.Total);
        var email = report.Findings.Single(f => f.Kind == SensitiveData.Email);
        Assert.Equal((1, "messages[1].content", "ana.moreau@fernhollow-gardens.net"), (email.Location.Line!.Value, email.Field, email.Preview));
        var key = report.Findings.Single(f => f.Kind == SensitiveData.AwsAccessKey);
        Assert.Equal((3, "messages[0].content"), (key.Location.Line!.Value, key.Field));
        Assert.DoesNotContain("FAKE4DEMO", key.Preview);    // a secret is shown with its middle hidden
        Assert.Contains("AKIAZ7", key.Preview);
    }

    [Fact]
    public void A_finding_in_a_plain_text_file_names_its_own_line()
    {
        var path = Write("notes.txt", "First paragraph.\n\nSecond paragraph,\nsecond line,\ncall +44 20 7946 0958 here.\n");
        var finding = Assert.Single(DataChecks.Run(Dataset.Load(path)).Sensitive.Findings);
        Assert.Equal(5, finding.Location.Line);
        Assert.Equal("text", finding.Field);
    }

    [Fact]
    public void Redaction_replaces_findings_in_the_prepared_data_and_never_touches_the_file()
    {
        var path = Write("secrets.jsonl", Lines(
            new JsonObject { ["instruction"] = "Who do I call?", ["input"] = "", ["output"] = "Call +44 20 7946 0958 or mail ana.moreau@fernhollow-gardens.net." },
            new JsonObject { ["instruction"] = "Which key?", ["input"] = "", ["output"] = "weather_api_key = AKIAZ7Q3FAKE4DEMO2KX" },
            new JsonObject { ["instruction"] = "Anything else?", ["input"] = "", ["output"] = "No." }));
        byte[] before = File.ReadAllBytes(path);
        var raw = Dataset.Load(path);
        var prepared = raw.PrepareChecked(Qwen, options: new PrepareOptions { MaxLength = 256 }, checks: new DataCheckOptions { Redact = true });

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal("Call +44 20 7946 0958 or mail ana.moreau@fernhollow-gardens.net.", raw[0].Output);   // the loaded examples stay as read
        var texts = prepared.Train.Examples.Select(e => e.Text).ToList();
        Assert.Contains(texts, t => t.Contains("Call <PHONE> or mail <EMAIL>.", StringComparison.Ordinal));
        Assert.Contains(texts, t => t.Contains("weather_api_key = <SECRET>", StringComparison.Ordinal));
        Assert.DoesNotContain(texts, t => t.Contains("fernhollow") || t.Contains("AKIA") || t.Contains("7946"));
        Assert.Equal(3, prepared.Report.Quality!.Sensitive.Total);
        Assert.Equal(3, prepared.Report.Quality.Sensitive.Redacted);
        Assert.Contains(prepared.Report.Warnings, w => w.Contains("3 replaced by placeholders", StringComparison.Ordinal));
    }

    [Fact]
    public void The_sample_file_has_its_planted_fake_key_token_address_and_phone()
    {
        var report = DataChecks.Run(Dataset.Load(Sample("checks.jsonl"))).Sensitive;
        Assert.Equal(["AWS access key", "GitHub token", "e-mail address", "phone number"], report.Findings.Select(f => f.Kind.Name).Order(StringComparer.Ordinal));
        Assert.All(report.Findings, f => Assert.Equal("output", f.Field));
    }
}
