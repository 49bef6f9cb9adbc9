using System.Diagnostics;
using Tunebook.Text.Tokenizers;
using Tunebook.Torch;

namespace Tunebook.Models;

/// <summary>
/// Autoregressive text generation: the prompt runs through the model once (filling the KV cache),
/// then one token at a time is picked from the last position's logits and fed back. Batches of
/// prompts are left-padded so that every row's last token sits in the same column; the attention
/// mask hides the padding and position ids are counted from the mask.
/// </summary>
public sealed class Generator
{
    readonly CausalLM _model;
    readonly Tokenizer? _tokenizer;

    /// <param name="model">The model (switched to eval mode for the call).</param>
    /// <param name="tokenizer">Encodes string prompts and decodes output; defaults to the model's.</param>
    public Generator(CausalLM model, Tokenizer? tokenizer = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _tokenizer = tokenizer ?? model.Tokenizer;
    }

    /// <summary>Generates a continuation of one prompt.</summary>
    public GenerationResult Generate(string prompt, GenerationOptions? options = null) => Generate([prompt], options);

    /// <summary>Generates continuations of several prompts in one batch.</summary>
    public GenerationResult Generate(IReadOnlyList<string> prompts, GenerationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        var tok = _tokenizer ?? throw new InvalidOperationException("Generate: string prompts need a tokenizer (the model folder had none); pass token ids or a Tokenizer");
        options ??= new GenerationOptions();
        var ids = prompts.Select(p => tok.Encode(p ?? throw new ArgumentNullException(nameof(prompts), "a prompt is null"), options.AddSpecialTokens).Ids).ToArray();
        return Generate(ids, options);
    }

    /// <summary>Generates continuations of prompts given as token ids.</summary>
    public GenerationResult Generate(IReadOnlyList<int[]> prompts, GenerationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        options ??= new GenerationOptions();
        var settings = Resolve(options, prompts);
        var clock = Stopwatch.StartNew();
        int B = prompts.Count;
        int maxPrompt = prompts.Max(p => p.Length);
        var pad = settings.PadId;

        var streams = prompts.Select(_ => new TextStream(_tokenizer, options.StopStrings, options.SkipSpecialTokens)).ToArray();
        var generated = prompts.Select(_ => new List<int>()).ToArray();
        var seen = prompts.Select(p => new HashSet<int>(p)).ToArray();
        var finish = new FinishReason?[B];
        var random = new Random(unchecked((int)(settings.Seed ^ (settings.Seed >> 32))));
        double promptSeconds = 0;

        bool wasTraining = _model.training;
        _model.eval();
        using var noGrad = torch.no_grad();
        using var cache = options.UseCache ? _model.NewCache(maxPrompt + settings.MaxNewTokens) : null;
        var device = _model.Device;
        // The rows still generating, by their index in the call. A row that finishes leaves the batch
        // (and the KV cache) at once, so later steps compute only for the rows that still need tokens.
        var active = Enumerable.Range(0, B).ToList();
        // Left-padded token rows and masks, kept on the host and grown by one column per step.
        var rows = prompts.Select(p => Enumerable.Repeat(pad, maxPrompt - p.Length).Concat(p).Select(i => (long)i).ToList()).ToList();
        var maskRows = prompts.Select(p => Enumerable.Repeat(0L, maxPrompt - p.Length).Concat(Enumerable.Repeat(1L, p.Length)).ToList()).ToList();
        try
        {
            for (int step = 0; step < settings.MaxNewTokens && active.Count > 0; step++)
            {
                if (options.CancellationToken.IsCancellationRequested)
                {
                    for (int b = 0; b < B; b++) finish[b] ??= FinishReason.Cancelled;
                    break;
                }
                using var scope = torch.NewDisposeScope();
                var logits = NextLogits(step, rows, maskRows, active.Select(b => prompts[b].Length < maxPrompt).Any(x => x), cache, device);  // [rows, V] float32
                var picked = Pick(logits, active.Select(b => seen[b]).ToArray(), settings, random);
                if (step == 0) promptSeconds = clock.Elapsed.TotalSeconds;
                var keep = new List<int>(active.Count);
                for (int r = 0; r < active.Count; r++)
                {
                    int b = active[r], token = picked[r];
                    generated[b].Add(token);
                    seen[b].Add(token);
                    rows[r].Add(token);
                    maskRows[r].Add(1);
                    var delta = streams[b].Push(token);
                    if (settings.Eos.Contains(token)) finish[b] = FinishReason.Eos;
                    else if (streams[b].Stopped) finish[b] = FinishReason.Stop;
                    else if (generated[b].Count >= settings.MaxNewTokens) finish[b] = FinishReason.Length;
                    if (finish[b] is not null) delta += streams[b].Flush();
                    else keep.Add(r);
                    options.OnToken?.Invoke(new GenerationChunk(b, token, delta, finish[b]));
                }
                if (keep.Count < active.Count && keep.Count > 0)
                {
                    cache?.KeepRows(keep);
                    active = keep.Select(r => active[r]).ToList();
                    rows = keep.Select(r => rows[r]).ToList();
                    maskRows = keep.Select(r => maskRows[r]).ToList();
                }
                else if (keep.Count == 0) active.Clear();
            }
        }
        finally
        {
            if (wasTraining) _model.train();
        }
        for (int b = 0; b < B; b++) finish[b] ??= FinishReason.Length;
        var sequences = Enumerable.Range(0, B)
            .Select(b => new GeneratedSequence(streams[b].Text, generated[b].ToArray(), prompts[b].Length, finish[b]!.Value))
            .ToArray();
        return new GenerationResult(sequences, prompts.Sum(p => p.Length), generated.Sum(g => g.Count), promptSeconds, clock.Elapsed.TotalSeconds, settings.Seed);
    }

    /// <summary>
    /// Logits [rows, V] (float32) of the next token of every row. The first step runs the whole
    /// (left-padded) prompt; with a cache later steps feed only the newest token. Only the last
    /// position goes through the output projection: the vocabulary-wide product of the other
    /// positions would be thrown away.
    /// </summary>
    Tensor NextLogits(int step, List<List<long>> rows, List<List<long>> maskRows, bool padded, KVCache? cache, Device device)
    {
        int B = rows.Count;
        bool incremental = cache is not null && step > 0;
        // The step that takes the sequence past the length where the model's position encoding changes
        // (longrope's long factors) recomputes the whole cache: the keys stored so far were rotated the
        // old way. transformers' Phi3ForCausalLM drops its cache at the same step.
        if (incremental && _model.PositionEncodingChangesBeyond is { } limit && cache!.Length == limit && rows[0].Count > limit)
        {
            cache.Clear();
            incremental = false;
        }
        int width = incremental ? 1 : rows[0].Count;
        int start = rows[0].Count - width;
        var flat = new long[B * width];
        for (int b = 0; b < B; b++) rows[b].CopyTo(start, flat, b * width, width);
        var ids = torch.tensor(flat, [B, width], device: device);
        Tensor? mask = null;
        if (padded)
        {
            int S = maskRows[0].Count;
            var m = new long[B * S];
            for (int b = 0; b < B; b++) maskRows[b].CopyTo(0, m, b * S, S);
            mask = torch.tensor(m, [B, S], device: device);
        }
        var logits = _model.Forward(ids, mask, cache: cache, logitsToKeep: 1);
        return logits.select(1, 0).to(ScalarType.Float32);
    }

    /// <summary>
    /// The next token of every row of <paramref name="logits"/> [rows, V]. Greedy decoding without a
    /// repetition penalty takes one argmax over the batch and one copy to the host; otherwise each row
    /// goes through the logits processors on its own.
    /// </summary>
    static int[] Pick(Tensor logits, HashSet<int>[] seen, Settings s, Random random)
    {
        if (!s.Sample && s.RepetitionPenalty == 1)
            return logits.argmax(-1).to(Device.CPU).data<long>().Select(t => (int)t).ToArray();
        var result = new int[seen.Length];
        for (int r = 0; r < result.Length; r++) result[r] = PickRow(logits[r], seen[r], s, random);
        return result;
    }

    static int PickRow(Tensor row, HashSet<int> seen, Settings s, Random random)
    {
        using var scope = torch.NewDisposeScope();
        var logits = LogitsProcessing.RepetitionPenalty(row, seen, s.RepetitionPenalty);
        if (!s.Sample) return (int)logits.argmax().item<long>();
        logits = logits / s.Temperature;
        logits = LogitsProcessing.TopK(logits, s.TopK);
        logits = LogitsProcessing.TopP(logits, s.TopP);
        logits = LogitsProcessing.MinP(logits, s.MinP);
        return LogitsProcessing.Sample(logits.softmax(-1), random);
    }

    sealed record Settings(int MaxNewTokens, bool Sample, double Temperature, int TopK, double TopP, double MinP, double RepetitionPenalty, HashSet<int> Eos, int PadId, long Seed);

    Settings Resolve(GenerationOptions o, IReadOnlyList<int[]> prompts)
    {
        if (prompts.Count == 0) throw new ArgumentException("Generate: no prompts");
        long vocab = _model.Config.VocabSize;
        for (int i = 0; i < prompts.Count; i++)
        {
            if (prompts[i] is null || prompts[i].Length == 0) throw new ArgumentException($"Generate: prompt {i} is empty; it needs at least one token (e.g. BOS)");
            foreach (var id in prompts[i])
                if (id < 0 || id >= vocab) throw new ArgumentException($"Generate: prompt {i} holds token id {id}, outside the vocabulary [0, {vocab})");
        }
        var g = _model.GenerationConfig;
        int maxNew = o.MaxNewTokens ?? g.MaxNewTokens ?? 128;
        if (maxNew < 1) throw new ArgumentOutOfRangeException(nameof(o.MaxNewTokens), maxNew, "MaxNewTokens must be at least 1");
        int longest = prompts.Max(p => p.Length);
        // The last new token is sampled, never embedded: a prompt of P tokens uses P + maxNew − 1 positions.
        if (_model.MaxPositions is { } limit && longest + maxNew - 1 > limit)
            throw new ArgumentException($"Generate: a {longest}-token prompt plus {maxNew} new tokens exceeds the {limit} learned positions of {_model.Config.Architecture}; lower MaxNewTokens to at most {Math.Max(0, limit - longest + 1)}");
        double temperature = o.Temperature ?? g.Temperature ?? 1.0;
        if (temperature < 0 || double.IsNaN(temperature)) throw new ArgumentOutOfRangeException(nameof(o.Temperature), temperature, "Temperature must be ≥ 0");
        bool sample = o.DoSample ?? (o.Temperature is > 0 ? true : o.Temperature == 0 ? false : g.DoSample ?? false);
        if (temperature == 0) sample = false;
        int topK = o.TopK ?? g.TopK ?? 0;
        if (topK < 0) throw new ArgumentOutOfRangeException(nameof(o.TopK), topK, "TopK must be ≥ 0 (0 = off)");
        double topP = o.TopP ?? g.TopP ?? 1.0;
        if (!(topP > 0 && topP <= 1)) throw new ArgumentOutOfRangeException(nameof(o.TopP), topP, "TopP must be in (0, 1]");
        double minP = o.MinP ?? g.MinP ?? 0;
        if (!(minP >= 0 && minP <= 1)) throw new ArgumentOutOfRangeException(nameof(o.MinP), minP, "MinP must be in [0, 1] (0 = off)");
        double penalty = o.RepetitionPenalty ?? g.RepetitionPenalty ?? 1.0;
        if (!(penalty > 0)) throw new ArgumentOutOfRangeException(nameof(o.RepetitionPenalty), penalty, "RepetitionPenalty must be > 0 (1 = off)");
        if (o.StopStrings.Count > 0 && _tokenizer is null) throw new InvalidOperationException("Generate: stop strings need a tokenizer to decode the output");
        var eos = new HashSet<int>(o.EosTokenIds ?? g.EosTokenIds);
        if (o.EosTokenIds is null && _tokenizer?.EosTokenId is { } te) eos.Add(te);
        int padId = g.PadTokenId ?? _tokenizer?.PadTokenId ?? eos.Cast<int?>().FirstOrDefault() ?? 0;
        long seed = o.Seed ?? Random.Shared.NextInt64();
        return new Settings(maxNew, sample, temperature, topK, topP, minP, penalty, eos, padId, seed);
    }
}
