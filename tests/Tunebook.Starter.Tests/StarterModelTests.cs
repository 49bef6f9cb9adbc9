using System.Diagnostics;
using System.Text.Json;
using Tunebook.Starter;

namespace Tunebook.Starter.Tests;

/// <summary>The starter model's committed config and the chat layout its corpus uses.</summary>
public class StarterModelTests
{
    static readonly string ConfigJson = File.ReadAllText(StarterTestSupport.Datasets("starter", "config.json"));

    [Fact]
    public void Config_describes_a_5_4M_parameter_llama_under_25_MB()
    {
        var shape = StarterModel.Shape.FromConfigJson(ConfigJson);
        Assert.Equal(new StarterModel.Shape(4096, 256, 688, 6, 8, 4, true), shape);
        // The hand count of datasets/starter/README.md: 4096·256 + 6·(2·256² + 2·256·128 + 3·256·688 + 2·256) + 256.
        Assert.Equal(4096L * 256 + 6L * (2 * 256 * 256 + 2 * 256 * 128 + 3 * 256 * 688 + 2 * 256) + 256, shape.ParameterCount);
        Assert.Equal(5_401_856L, shape.ParameterCount);
        Assert.True(shape.ParameterCount * 4 <= 25_000_000);
        // Untied embeddings add one more vocabulary × hidden matrix.
        Assert.Equal(shape.ParameterCount + 4096L * 256, (shape with { TiedEmbeddings = false }).ParameterCount);

        using var doc = JsonDocument.Parse(ConfigJson);
        var root = doc.RootElement;
        Assert.Equal("LlamaForCausalLM", root.GetProperty("architectures")[0].GetString());
        Assert.Equal(256, root.GetProperty("head_dim").GetInt32() * root.GetProperty("num_attention_heads").GetInt32());
        Assert.Equal(256, root.GetProperty("max_position_embeddings").GetInt32());
        Assert.Equal(10000.0, root.GetProperty("rope_theta").GetDouble());
        Assert.Equal(1e-5, root.GetProperty("rms_norm_eps").GetDouble());
    }

    [Fact]
    public void Special_token_ids_in_the_configs_point_at_the_right_tokens()
    {
        using var config = JsonDocument.Parse(ConfigJson);
        using var generation = JsonDocument.Parse(File.ReadAllText(StarterTestSupport.Datasets("starter", "generation_config.json")));
        var tokens = StarterModel.SpecialTokens;
        Assert.Equal(["<|endoftext|>", "<|im_start|>", "<|im_end|>"], tokens);
        Assert.Equal("<|endoftext|>", tokens[config.RootElement.GetProperty("bos_token_id").GetInt32()]);
        Assert.Equal("<|im_end|>", tokens[config.RootElement.GetProperty("eos_token_id").GetInt32()]);
        Assert.Equal("<|endoftext|>", tokens[config.RootElement.GetProperty("pad_token_id").GetInt32()]);
        var stops = generation.RootElement.GetProperty("eos_token_id").EnumerateArray().Select(e => tokens[e.GetInt32()]).ToList();
        Assert.Equal(["<|im_end|>", "<|endoftext|>"], stops);
    }

    [Fact]
    public void Chat_template_rendered_by_the_Hugging_Face_jinja_reference_matches_the_corpus_layout()
    {
        var messages = new (string Role, string Content)[]
        {
            ("system", "You are a helpful assistant."),
            ("user", "How do I water the lawn zone?"),
            ("assistant", "Run `puddle water lawn`."),
            ("user", "And for \"15\" minutes?\nPlease."),
        };
        foreach (var addGenerationPrompt in new[] { false, true })
        {
            var request = JsonSerializer.Serialize(new
            {
                template = StarterModel.ChatTemplate,
                messages = messages.Select(m => new { role = m.Role, content = m.Content }),
                add_generation_prompt = addGenerationPrompt,
            }, Tunebook.Tests.TestJson.Options);
            var expected = StarterCorpus.Chat(messages) + (addGenerationPrompt ? "<|im_start|>assistant\n" : "");
            Assert.Equal(expected, RunNode(request));
        }
    }

    static string RunNode(string stdin)
    {
        var script = Path.Combine(StarterTestSupport.RepoRoot, "tests", "Tunebook.Starter.Tests", "StarterChatTemplate.cjs");
        var psi = new ProcessStartInfo("node") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(StarterTestSupport.RepoRoot);
        using var process = Process.Start(psi)!;
        process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(60_000), "node did not finish");
        Assert.True(process.ExitCode == 0, $"node failed: {error.Result}");
        return output.Result;
    }
}
