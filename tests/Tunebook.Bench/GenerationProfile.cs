using System.Diagnostics;
using System.Text.Json;
using Tunebook.Models;
using Tunebook.Models.Llama;
using Tunebook.Torch;

namespace Tunebook.Bench;

/// <summary>
/// Where a greedy KV-cache decoding step of the generation benchmark's model spends its time:
/// the whole step as <see cref="Generator"/> runs it, the model's forward pass alone, one decoder
/// layer, the head, and the cost of one small tensor operation (the engine's floor). Prints one
/// JSON line of milliseconds per token; docs/models.md explains the findings.
/// </summary>
public static class GenerationProfile
{
    public static int Run(string[] args)
    {
        torch.manual_seed(0);
        using var model = (LlamaForCausalLM)CausalLM.FromConfig(ModelConfig.FromJson(GenerationBenchmark.Config()));
        model.eval();
        using var noGrad = torch.no_grad();
        var prompt = Enumerable.Range(0, GenerationBenchmark.PromptTokens).Select(i => (long)((i * 37 + 11) % 4096)).ToArray();
        const int steps = GenerationBenchmark.NewTokens;

        // 1. The whole generation, per new token: the first full call (what a notebook's first #!generate
        // sees, with the host code still young for the JIT) and the same call again. Wall time and this
        // process's CPU time: on a loaded machine the CPU time is the steadier of the two.
        var options = new GenerationOptions { MaxNewTokens = steps, EosTokenIds = [] };
        model.Generate([prompt.Select(i => (int)i).ToArray()], options with { MaxNewTokens = 4 });
        (double Wall, double Cpu) Decode()
        {
            var process = Process.GetCurrentProcess();
            var cpu = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var result = model.Generate([prompt.Select(i => (int)i).ToArray()], options);
            double wall = clock.Elapsed.TotalMilliseconds;
            process.Refresh();
            double cpuMs = (process.TotalProcessorTime - cpu).TotalMilliseconds;
            double prefill = result.PromptSeconds * 1000;
            // CPU time is not split at the prompt: the prompt's share is taken as its share of the wall time.
            return ((wall - prefill) / (steps - 1), cpuMs * (1 - prefill / wall) / (steps - 1));
        }
        var first = Decode();
        var again = Decode();

        // 2. Forward of one token with the cache (no sampling, no host bookkeeping).
        double forward = Median(() =>
        {
            using var cache = model.NewCache(prompt.Length + steps);
            using var scope = torch.NewDisposeScope();
            model.Forward(torch.tensor(prompt, [1, prompt.Length]), cache: cache);
            var one = torch.tensor(new long[] { 7 }, [1, 1]);
            var c = Stopwatch.StartNew();
            for (int s = 0; s < steps; s++) { using var inner = torch.NewDisposeScope(); model.Forward(one, cache: cache); }
            return c.Elapsed.TotalMilliseconds / steps;
        });

        // 3. One decoder layer and the head on a [1, 1, H] hidden state, cache of prompt length.
        long H = model.Config.HiddenSize;
        double layer, head;
        {
            using var cache = model.NewCache(prompt.Length + steps + 2);
            using var scope = torch.NewDisposeScope();
            model.Forward(torch.tensor(prompt, [1, prompt.Length]), cache: cache);
            var hidden = torch.randn([1, 1, H]);
            var pos = torch.tensor(new long[] { prompt.Length }, [1, 1]);
            var rotary = new RotaryEmbedding(model.Config).Compute(pos, ScalarType.Float32, prompt.Length + 1);
            layer = Median(() =>
            {
                var c = Stopwatch.StartNew();
                for (int s = 0; s < steps; s++)
                {
                    using var inner = torch.NewDisposeScope();
                    var context = new ForwardContext { Batch = 1, Length = 1, PastLength = cache.Length, PositionIds = pos, Masks = new Tensor?[model.NumLayers], Cos = rotary.cos, Sin = rotary.sin, Cache = cache };
                    model.model.layers[0].Forward(hidden, context);
                    cache.Clear();
                }
                return c.Elapsed.TotalMilliseconds / steps;
            });
            head = Median(() =>
            {
                var c = Stopwatch.StartNew();
                for (int s = 0; s < steps; s++)
                {
                    using var inner = torch.NewDisposeScope();
                    Tunebook.Torch.nn.functional.linear(model.model.norm.forward(hidden), model.model.embed_tokens.weight);
                }
                return c.Elapsed.TotalMilliseconds / steps;
            });
        }

        // 4. The floor: one small elementwise op, its wrapper and its disposal.
        double op;
        {
            using var scope = torch.NewDisposeScope();
            var a = torch.randn([1, 1, H]);
            op = Median(() =>
            {
                var c = Stopwatch.StartNew();
                for (int s = 0; s < 2000; s++) { using var inner = torch.NewDisposeScope(); _ = a + a; }
                return c.Elapsed.TotalMilliseconds / 2000;
            });
        }

        Console.WriteLine(JsonSerializer.Serialize(new
        {
            impl = "tunebook",
            profile = "greedy_kv_cache_step",
            threads = torch.get_num_threads(),
            ms_per_token_generate = Math.Round(first.Wall, 4),
            cpu_ms_per_token_generate = Math.Round(first.Cpu, 4),
            ms_per_token_generate_again = Math.Round(again.Wall, 4),
            cpu_ms_per_token_generate_again = Math.Round(again.Cpu, 4),
            ms_forward_one_token = Math.Round(forward, 4),
            ms_one_layer = Math.Round(layer, 4),
            ms_layers = Math.Round(layer * model.NumLayers, 4),
            ms_head = Math.Round(head, 4),
            ms_small_op = Math.Round(op, 5),
        }));
        return 0;
    }

    static double Median(Func<double> measure)
    {
        measure();
        var runs = Enumerable.Range(0, 5).Select(_ => measure()).OrderBy(x => x).ToArray();
        return runs[2];
    }
}
