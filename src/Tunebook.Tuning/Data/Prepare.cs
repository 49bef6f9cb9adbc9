using Tunebook.Text.Templates;
using Tunebook.Text.Tokenizers;

namespace Tunebook.Tuning.Data;

/// <summary>The result of <see cref="RawDataset.Prepare"/>: training and validation sets and the data report.</summary>
/// <param name="Train">Training rows; pass to the trainer.</param>
/// <param name="Validation">Held-out rows, or null without a split.</param>
/// <param name="Report">Statistics and warnings.</param>
public sealed record PreparedData(TrainingSet Train, TrainingSet? Validation, DataReport Report)
{
    /// <summary>How to make this data again from its files (what a run record keeps for replay); null for data built in memory.</summary>
    public DataRecipe? Recipe { get; init; }

    /// <summary>Why there is no <see cref="Recipe"/> (for example "the data was built in memory (records), not loaded from a file").</summary>
    public string? NoRecipeReason { get; init; }

    /// <summary>The report's summary.</summary>
    public override string ToString() => Report.ToString();
}

public sealed partial class RawDataset
{
    /// <summary>
    /// Renders every example to text (chat template, Alpaca prompt or plain), tokenizes it, masks the labels of
    /// everything that is not an answer (with <see cref="PrepareOptions.CompletionOnly"/>), truncates to
    /// <see cref="PrepareOptions.MaxLength"/>, drops examples in which nothing is trained (listing them in the
    /// report), splits off a seeded validation set and packs rows when asked.
    /// </summary>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="template">The chat template; null to use the tokenizer's, or <see cref="PrepareOptions.BuiltInTemplate"/>.</param>
    /// <param name="options">Lengths, masking, packing and split.</param>
    public PreparedData Prepare(Tokenizer tokenizer, ChatTemplate? template = null, PrepareOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        options ??= new PrepareOptions();
        if (options.MaxLength < 2) throw new ArgumentOutOfRangeException(nameof(options), "PrepareOptions.MaxLength must be at least 2");
        if (options.ValFraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(options), "PrepareOptions.ValFraction must be in [0, 1)");
        if (options.ValCount is < 0) throw new ArgumentOutOfRangeException(nameof(options), "PrepareOptions.ValCount must not be negative");

        var (chosen, hint) = ResolveTemplate(tokenizer, template, options);
        var renderer = new ExampleRenderer(chosen, tokenizer.Config.EosToken, options, hint);
        var dropped = new List<DroppedExample>();

        // 1. Render. A template error (roles that do not alternate, raise_exception) concerns one example.
        var rendered = new List<(RawExample Raw, ExampleText Text)>(Count);
        foreach (var raw in _rows)
        {
            try { rendered.Add((raw, renderer.Render(raw))); }
            catch (Exception e) when (e is TemplateException or InvalidOperationException && chosen is not null)
            {
                if (!options.SkipBadRows) throw new DataLoadException(raw.Location, null, $"cannot be rendered with the chat template: {e.Message}", e);
                dropped.Add(new DroppedExample(raw.Index, raw.Location, "cannot be rendered with the chat template: " + e.Message));
            }
        }

        // 2. Tokenize (in parallel) and label.
        var encodings = new Encoding[rendered.Count];
        Parallel.For(0, rendered.Count, i => encodings[i] = tokenizer.Encode(rendered[i].Text.Text, null, rendered[i].Text.AddSpecialTokens));
        var all = new List<TokenizedExample>(rendered.Count);
        for (int i = 0; i < rendered.Count; i++)
            all.Add(Label(rendered[i].Raw, rendered[i].Text, encodings[i], options));

        // 3. Drop what would train on nothing: an all-masked example adds zero loss and only wastes compute, and usually
        //    means a formatting problem worth seeing.
        var kept = new List<TokenizedExample>(all.Count);
        foreach (var e in all)
        {
            if (e.TargetTokens > 0) { kept.Add(e); continue; }
            string reason = e.Labels.All(l => l == TokenizedExample.Ignore) && e.Truncated && options.Truncation == TruncationSide.Right
                ? $"no trained tokens left after truncation to {options.MaxLength} tokens (the answer starts beyond it)"
                : e.Truncated ? $"no trained tokens left after truncation to {options.MaxLength} tokens" : "no trained tokens (nothing to learn: no answer / assistant turn, or an empty one)";
            dropped.Add(new DroppedExample(e.SourceIndex, e.Location, reason));
        }
        if (kept.Count == 0)
            throw new InvalidDataException($"{Source}: no example has a trained token ({dropped.Count} dropped; the first: {dropped.FirstOrDefault()?.Location}: {dropped.FirstOrDefault()?.Reason})");

        // 4. Split by a seeded permutation: the same data and seed give the same split.
        int held = options.ValCount ?? (options.ValFraction > 0 ? Math.Max(1, (int)Math.Round(kept.Count * options.ValFraction)) : 0);
        if (held >= kept.Count) throw new ArgumentException($"a validation set of {held} leaves nothing to train on ({kept.Count} examples)");
        var order = Training.DataOrder.ForEpoch(kept.Count, options.Seed, -1, shuffle: true);
        var validation = order.Take(held).Order().Select(i => kept[i]).ToList();
        var train = order.Skip(held).Order().Select(i => kept[i]).ToList();

        int pad = tokenizer.PadTokenId ?? tokenizer.EosTokenId ?? 0;
        TrainingSet Build(List<TokenizedExample> examples) => options.Packing
            ? new TrainingSet(examples, Packing.Pack(examples, options.MaxLength), pad, packed: true)
            : TrainingSet.Unpacked(examples, pad);
        var trainSet = Build(train);
        var validationSet = held > 0 ? Build(validation) : null;
        var (recipe, missing) = DataRecipe.Of(this, template, options, checks: null, heldOut: null);
        return new PreparedData(trainSet, validationSet, Report(all, kept, trainSet, validation, dropped, options)) { Recipe = recipe, NoRecipeReason = missing };
    }

    (ChatTemplate? Template, string Hint) ResolveTemplate(Tokenizer tokenizer, ChatTemplate? given, PrepareOptions options)
    {
        if (given is not null) return (given, "");
        if (tokenizer.Config.ChatTemplate is { } source)
        {
            var tokens = new Dictionary<string, string>();
            foreach (var (name, value) in new[] { ("bos_token", tokenizer.Config.BosToken), ("eos_token", tokenizer.Config.EosToken),
                         ("pad_token", tokenizer.Config.PadToken), ("unk_token", tokenizer.Config.UnkToken) })
                if (value is not null) tokens[name] = value;
            return (ChatTemplate.Parse(source).WithSpecialTokens(tokens), "");
        }
        if (options.BuiltInTemplate is { } builtIn)
        {
            // Alpaca and Llama 2 end a reply with the model's own EOS; ChatML and Llama 3 have fixed markers.
            bool modelTokens = builtIn.ToLowerInvariant().Replace("-", "").Replace("_", "") is "alpaca" or "llama2";
            return (modelTokens ? ChatTemplate.BuiltIn(builtIn, tokenizer.Config.BosToken, tokenizer.Config.EosToken) : ChatTemplate.BuiltIn(builtIn), "");
        }
        return (null, "the tokenizer has none (tokenizer_config.json has no chat_template)");
    }

    /// <summary>
    /// Labels from the trained character ranges: a token is trained when its characters overlap a trained range
    /// (a token with no characters, such as a BOS the tokenizer adds, when it sits inside one).
    /// </summary>
    static TokenizedExample Label(RawExample raw, ExampleText text, Encoding encoding, PrepareOptions options)
    {
        int n = encoding.Count;
        var ids = encoding.Ids;
        var labels = new int[n];
        var spans = text.Trained.Select(r => r.GetOffsetAndLength(text.Text.Length)).Select(o => (Start: o.Offset, End: o.Offset + o.Length)).ToArray();
        for (int i = 0; i < n; i++)
        {
            var (s, e) = encoding.Offsets[i];
            bool trained = false;
            foreach (var span in spans)
                if (e > s ? s < span.End && e > span.Start : s >= span.Start && (s < span.End || span.End == text.Text.Length && s == span.End && span.End > span.Start))
                { trained = true; break; }
            labels[i] = trained ? ids[i] : TokenizedExample.Ignore;
        }
        int[] keptIds = ids, keptLabels = labels;
        if (n > options.MaxLength)
        {
            var range = options.Truncation == TruncationSide.Right ? 0..options.MaxLength : (n - options.MaxLength)..n;
            keptIds = ids[range];
            keptLabels = labels[range];
        }
        return new TokenizedExample
        {
            InputIds = keptIds, Labels = keptLabels, SourceIndex = raw.Index, Location = raw.Location,
            Text = text.Text, OriginalLength = n,
        };
    }

    DataReport Report(List<TokenizedExample> all, List<TokenizedExample> kept, TrainingSet train, List<TokenizedExample> validation,
        List<DroppedExample> dropped, PrepareOptions options)
    {
        var lengths = all.Select(e => e.OriginalLength).ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var duplicates = all.Where(e => !seen.Add(e.Text)).Select(e => e.SourceIndex).ToList();
        var trainTexts = train.Examples.Select(e => e.Text).ToHashSet(StringComparer.Ordinal);
        int leaked = validation.Count(e => trainTexts.Contains(e.Text));
        var truncated = all.Where(e => e.Truncated).Select(e => e.SourceIndex).ToList();
        long tokens = kept.Sum(e => (long)e.Length), trained = kept.Sum(e => (long)e.TargetTokens);

        var warnings = new List<string>();
        if (truncated.Count > 0)
            warnings.Add($"{truncated.Count} of {all.Count} examples ({(double)truncated.Count / all.Count:P0}) are longer than {options.MaxLength} tokens and were truncated " +
                $"({options.Truncation.ToString().ToLowerInvariant()} side); the longest has {lengths.Max()} tokens");
        if (dropped.Count > 0)
            warnings.Add($"{dropped.Count} examples dropped (listed in Dropped): {string.Join("; ", dropped.Take(3).Select(d => $"{d.Location}: {d.Reason}"))}" +
                (dropped.Count > 3 ? "; ..." : ""));
        if (duplicates.Count > 0) warnings.Add($"{duplicates.Count} exact duplicates (they are trained on more than once)");
        if (leaked > 0) warnings.Add($"{leaked} validation examples also appear in the training set: validation loss will look better than it is");
        if (SkippedRows.Count > 0) warnings.Add($"{SkippedRows.Count} bad rows were skipped while loading (listed in SkippedRows)");

        return new DataReport
        {
            Source = Source, Format = Format, Examples = Count,
            TrainExamples = train.Examples.Count, ValidationExamples = validation.Count, TrainRows = train.Count,
            Packed = train.Packed, MaxLength = options.MaxLength,
            TokenLengths = LengthStats.Of(lengths), LengthHistogram = Histogram.Of(lengths, options.HistogramBins),
            Truncated = truncated.Count, TruncatedIndices = truncated,
            Duplicates = duplicates.Count, DuplicateIndices = duplicates, ValidationInTrain = leaked,
            Dropped = dropped, SkippedRows = SkippedRows.Select(s => s.Message).ToList(),
            Tokens = tokens, TrainedTokens = trained,
            PackingEfficiency = train.Packed && train.Count > 0 ? (double)train.Rows.Sum(r => (long)r.Length) / ((long)train.Count * options.MaxLength) : null,
            Warnings = warnings,
        };
    }
}
