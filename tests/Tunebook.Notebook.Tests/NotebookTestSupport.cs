using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tunebook.Interactive;
using Tunebook.Models;
using Tunebook.Text.Tokenizers;
using Tunebook.Starter;

namespace Tunebook.Notebook.Tests;

/// <summary>A notebook host that records what was displayed and every update, for asserting on displays.</summary>
sealed class RecordingHost : INotebookHost
{
    public sealed class Area(RecordingHost host, string id) : IDisplayHandle
    {
        public string DisplayId => id;
        public List<MimeBundle> Versions { get; } = [];
        public MimeBundle Last => Versions[^1];
        public void Update(object? value) { lock (host) Versions.Add(Formatters.Format(value)); }
        public void Clear() { }
    }

    public List<Area> Areas { get; } = [];
    public CancellationTokenSource Cancel { get; } = new();
    public CancellationToken Cancellation => Cancel.Token;
    public void ClearOutput(bool wait = false) { }
    public IDisplayHandle Display(object? value)
    {
        var area = new Area(this, $"area-{Areas.Count}");
        lock (this) Areas.Add(area);
        area.Update(value);
        return area;
    }
}

/// <summary>A clock that moves only when told to.</summary>
sealed class FakeClock : TimeProvider
{
    long _ticks;
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    public override long GetTimestamp() => Interlocked.Read(ref _ticks);
    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>A tiny random Llama with a small BPE tokenizer trained on the puddle data, with the starter's chat template.</summary>
static class TinyModel
{
    static readonly Lazy<Tokenizer> tokenizer = new(() =>
    {
        var texts = File.ReadLines(Path.Combine(ChartPaths.RepoRoot, "datasets/puddle/train.jsonl")).Take(200);
        return BpeTrainer.Train(texts, 400, StarterModel.SpecialTokens, config: new TokenizerConfig
        {
            EosToken = StarterModel.SpecialTokens[2], PadToken = StarterModel.SpecialTokens[0], BosToken = null,
            ChatTemplate = StarterModel.ChatTemplate,
        });
    });

    public static Tokenizer Tokenizer => tokenizer.Value;

    public static ModelConfig Config() => ModelConfig.FromJson(new JsonObject
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["model_type"] = "llama",
        ["vocab_size"] = Tokenizer.VocabSize,
        ["hidden_size"] = 32,
        ["intermediate_size"] = 64,
        ["num_hidden_layers"] = 2,
        ["num_attention_heads"] = 4,
        ["num_key_value_heads"] = 2,
        ["max_position_embeddings"] = 256,
        ["rms_norm_eps"] = 1e-5,
        ["rope_theta"] = 10000.0,
        ["tie_word_embeddings"] = true,
        ["initializer_range"] = 0.05,
        ["bos_token_id"] = 0,
        ["eos_token_id"] = 2,
        ["pad_token_id"] = 0,
    });

    public static CausalLM Create()
    {
        Tunebook.Torch.torch.manual_seed(7);
        var model = CausalLM.FromConfig(Config());
        model.Tokenizer = Tokenizer;
        model.GenerationConfig = new GenerationConfig { EosTokenIds = [2], PadTokenId = 0 };
        return model;
    }

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "tunebook-notebook-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}

/// <summary>Checks that HTML fragments are well-formed: every non-void tag closes in order.</summary>
static class HtmlCheck
{
    static readonly HashSet<string> Void = ["br", "hr", "img", "input", "meta", "link", "col", "wbr"];
    static readonly Regex Tag = new(@"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)([^>]*?)(/?)>", RegexOptions.Compiled);

    public static void WellFormed(string html)
    {
        var stack = new Stack<string>();
        foreach (Match m in Tag.Matches(html))
        {
            string name = m.Groups[2].Value.ToLowerInvariant();
            bool closing = m.Groups[1].Value == "/", selfClosing = m.Groups[4].Value == "/";
            if (Void.Contains(name) || selfClosing) continue;
            if (!closing) { stack.Push(name); continue; }
            Assert.True(stack.Count > 0, $"</{name}> closes nothing in: {Snippet(html, m.Index)}");
            var open = stack.Pop();
            Assert.True(open == name, $"</{name}> closes <{open}> in: {Snippet(html, m.Index)}");
        }
        Assert.True(stack.Count == 0, $"unclosed tags: {string.Join(", ", stack)}");
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
    }

    static string Snippet(string s, int at) => s.Substring(Math.Max(0, at - 80), Math.Min(160, s.Length - Math.Max(0, at - 80)));
}
