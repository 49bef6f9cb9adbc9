using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Tunebook.Tuning.Data.Quality;

/// <summary>
/// The data checks, run as one pass over the examples: leakage of training examples into the validation and
/// held-out examples, near-duplicate clusters in training, secrets and personal data, and balance.
/// <code>
/// var checks = new DataChecks(options);
/// foreach (var e in heldOut) checks.AddEvaluation(e, DataChecks.HeldOutSplit);   // evaluation examples first
/// foreach (var e in training) checks.AddTraining(e);                               // then stream the training examples
/// QualityReport report = checks.Finish();
/// </code>
/// Memory is bounded whatever the number of training examples: the evaluation examples are indexed (up to
/// <see cref="DataCheckOptions.MaxEvaluationExamples"/>), each training example is compared with that index as it
/// passes, and only the near-duplicate search keeps something per training example (a signature and a short
/// preview, about 700 bytes) for the first <see cref="DataCheckOptions.MaxNearDuplicateExamples"/> of them.
/// Findings beyond <see cref="DataCheckOptions.MaxFindings"/> are counted, not kept. A row a check cannot run on
/// (a pattern that times out on it, an unreadable line of a streamed file) is named in <see cref="QualityReport.Unchecked"/>.
/// </summary>
public sealed class DataChecks
{
    /// <summary>The split name of validation examples.</summary>
    public const string ValidationSplit = "validation";
    /// <summary>The split name of held-out examples.</summary>
    public const string HeldOutSplit = "held-out";
    /// <summary>Characters of each training example kept for showing a cluster's representative.</summary>
    public const int PreviewChars = 100;
    const int BatchSize = 1024;

    readonly DataCheckOptions options;
    readonly MinHash minHash;

    // Evaluation examples and their index: normalised parts for exact matches, LSH bands for near ones.
    sealed record EvalPart(int Item, string Part, string Text, uint[]? Signature);
    sealed class EvalItem(string split, RawExample example)
    {
        public string Split { get; } = split;
        public RawExample Example { get; } = example;
        public LeakPair? Best;
        public int Matches;
    }
    readonly List<EvalItem> eval = [];
    readonly List<EvalPart> evalParts = [];
    readonly Dictionary<string, List<int>> exactIndex = new(StringComparer.Ordinal);
    readonly Dictionary<ulong, List<int>>[] bandIndex = Enumerable.Range(0, MinHash.Bands).Select(_ => new Dictionary<ulong, List<int>>()).ToArray();
    readonly HashSet<int> leakingTrain = [];
    int validationChecked, heldOutChecked;
    bool trainingStarted;

    // Near-duplicates: what is kept per training example, up to the bound.
    readonly List<uint[]?> signatures = [];
    readonly List<int> trainIndices = [];
    readonly List<RowLocation> trainLocations = [];
    readonly List<string> previews = [];
    int notChecked;

    // Secrets and personal data.
    readonly List<SensitiveFinding> findings = [];
    readonly Dictionary<string, int> byKind = [];
    int totalFindings;

    // Balance: the named field, or every usual field until one is chosen at the end; and the scripts.
    readonly Dictionary<string, BalanceCounter> fieldCounts = new(StringComparer.Ordinal);
    readonly Dictionary<string, int> fieldPresent = new(StringComparer.Ordinal);
    readonly BalanceCounter scripts;
    int scanned;

    readonly List<UncheckedRow> uncheckedRows = [];
    readonly List<RawExample> pending = new(BatchSize);

    /// <summary>Checks with <paramref name="options"/> (null: <see cref="DataCheckOptions.Default"/>).</summary>
    public DataChecks(DataCheckOptions? options = null)
    {
        this.options = options ?? DataCheckOptions.Default;
        this.options.Validate();
        minHash = new MinHash(this.options.ShingleSize);
        scripts = new BalanceCounter(this.options.MaxBalanceValues);
        foreach (var f in this.options.BalanceField is { } named ? [named] : DataCheckOptions.BalanceFields)
            fieldCounts[f] = new BalanceCounter(this.options.MaxBalanceValues);
    }

    /// <summary>
    /// Adds an example the model is evaluated on (<see cref="ValidationSplit"/> or <see cref="HeldOutSplit"/>); call
    /// before the first <see cref="AddTraining"/>. Validation examples are also scanned and counted for balance
    /// (they are part of the prepared data); held-out examples only serve the leakage check.
    /// </summary>
    public void AddEvaluation(RawExample example, string split)
    {
        ArgumentNullException.ThrowIfNull(example);
        if (split is not (ValidationSplit or HeldOutSplit)) throw new ArgumentException($"split must be '{ValidationSplit}' or '{HeldOutSplit}', got '{split}'", nameof(split));
        if (trainingStarted) throw new InvalidOperationException("add the evaluation examples before the training examples");
        if (split == ValidationSplit) Scan([example]);
        if (eval.Count >= options.MaxEvaluationExamples)
        {
            uncheckedRows.Add(new UncheckedRow(example.Location, "leakage", string.Create(CultureInfo.InvariantCulture, $"beyond the bound of {options.MaxEvaluationExamples:N0} evaluation examples")));
            return;
        }
        if (split == ValidationSplit) validationChecked++; else heldOutChecked++;
        int item = eval.Count;
        eval.Add(new EvalItem(split, example));
        foreach (var (part, text) in LeakParts(example))
        {
            string normalized = ExampleParts.Normalize(text);
            if (normalized.Length < options.MinLeakChars) continue;
            int id = evalParts.Count;
            var signature = minHash.Signature(normalized);
            evalParts.Add(new EvalPart(item, part, text, signature));
            Index(exactIndex, part + "\0" + normalized, id);
            if (signature is not null)
                for (int b = 0; b < MinHash.Bands; b++) Index(bandIndex[b], MinHash.BandKey(signature, b), id);
        }
    }

    /// <summary>Adds a training example (streamed: nothing of it is kept but, within the bound, its signature and a preview).</summary>
    public void AddTraining(RawExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        trainingStarted = true;
        pending.Add(example);
        if (pending.Count == BatchSize) Flush();
    }

    /// <summary>Names a row no check could run on (for example a line of a streamed file that is not valid JSON).</summary>
    public void AddUnchecked(UncheckedRow row) => uncheckedRows.Add(row);

    /// <summary>Clusters the near-duplicates and returns everything found.</summary>
    public QualityReport Finish()
    {
        Flush();
        var clusters = NearDuplicates.Cluster(signatures, options.NearThreshold)
            .Select(c => new DuplicateCluster(trainIndices[c[0]], trainLocations[c[0]], previews[c[0]],
                c.Select(i => trainIndices[i]).ToList(), c.Select(i => trainLocations[i]).ToList()))
            .OrderByDescending(c => c.Size).ThenBy(c => c.Representative).ToList();
        var pairs = eval.Where(e => e.Best is not null).Select(e => e.Best! with { TrainMatches = e.Matches })
            .OrderByDescending(p => p.Exact).ThenByDescending(p => p.Similarity).ThenBy(p => p.Split).ThenBy(p => p.Index).ToList();

        // The balance field: the one named, else the first usual field that at least half of the examples have.
        string? field = options.BalanceField ?? DataCheckOptions.BalanceFields.FirstOrDefault(f => fieldPresent.GetValueOrDefault(f) * 2 >= Math.Max(1, scanned));
        var balance = field is not null
            ? BalanceReport.Of(field, fieldCounts[field].Counts(), options.DominantShare, options.MinPerValue)
            : BalanceReport.Of(null, scripts.Counts(), options.DominantShare, options.MinPerValue);

        return new QualityReport
        {
            Leakage = new LeakageReport(validationChecked, heldOutChecked, pairs, leakingTrain.Order().ToList(), options.NearThreshold),
            NearDuplicates = new NearDuplicateReport(signatures.Count, notChecked, options.MaxNearDuplicateExamples, options.NearThreshold, clusters),
            Sensitive = new SensitiveDataReport(totalFindings, new Dictionary<string, int>(byKind), findings.ToList(), 0),
            Balance = balance,
            Unchecked = uncheckedRows.ToList(),
            Bounds = string.Create(CultureInfo.InvariantCulture,
                $"leakage, secrets, personal data and balance look at every example; near-duplicates compare the first {options.MaxNearDuplicateExamples:N0} " +
                $"training examples (about 700 bytes each); {options.MaxEvaluationExamples:N0} evaluation examples are indexed; {options.MaxFindings:N0} findings are listed"),
        };
    }

    /// <summary>The parts compared for leakage: prompt and answer, or the whole text of a plain-text example.</summary>
    static IEnumerable<(string Part, string Text)> LeakParts(RawExample e)
    {
        if (e.Format == DataFormat.Text) { yield return ("text", e.Text ?? ""); yield break; }
        yield return ("prompt", ExampleParts.Prompt(e));
        yield return ("answer", ExampleParts.Answer(e));
    }

    static void Index<TKey>(Dictionary<TKey, List<int>> index, TKey key, int id) where TKey : notnull
    {
        if (!index.TryGetValue(key, out var list)) index[key] = list = [];
        list.Add(id);
    }

    // What is computed for a training example in parallel before it is recorded in order.
    sealed record Prepared(RawExample Example, (string Part, string Normalized, string Text, uint[]? Signature)[] Parts, uint[]? Whole, string Preview);

    void Flush()
    {
        if (pending.Count == 0) return;
        var batch = pending.ToArray();
        pending.Clear();
        Scan(batch);
        bool leakage = evalParts.Count > 0;
        int room = Math.Max(0, options.MaxNearDuplicateExamples - signatures.Count);
        var prepared = new Prepared[batch.Length];
        Parallel.For(0, batch.Length, i =>
        {
            var e = batch[i];
            var parts = leakage
                ? LeakParts(e).Select(p => (p.Part, N: ExampleParts.Normalize(p.Text), p.Text))
                    .Where(p => p.N.Length >= options.MinLeakChars).Select(p => (p.Part, p.N, p.Text, minHash.Signature(p.N))).ToArray()
                : [];
            string whole = ExampleParts.Whole(e);
            uint[]? wholeSignature = i < room ? minHash.Signature(ExampleParts.Normalize(whole)) : null;
            prepared[i] = new Prepared(e, parts, wholeSignature, i < room ? QualityReport.Clip(whole, PreviewChars) : "");
        });
        for (int i = 0; i < prepared.Length; i++)
        {
            var p = prepared[i];
            if (leakage) CompareWithEvaluation(p);
            if (i < room)
            {
                signatures.Add(p.Whole);
                trainIndices.Add(p.Example.Index);
                trainLocations.Add(p.Example.Location);
                previews.Add(p.Preview);
            }
            else notChecked++;
        }
    }

    void CompareWithEvaluation(Prepared p)
    {
        foreach (var (part, normalized, text, signature) in p.Parts)
        {
            var hits = new Dictionary<int, (double Similarity, bool Exact)>();
            if (exactIndex.TryGetValue(part + "\0" + normalized, out var exact))
                foreach (var id in exact) hits[id] = (1.0, true);
            if (signature is not null)
                for (int b = 0; b < MinHash.Bands; b++)
                    if (bandIndex[b].TryGetValue(MinHash.BandKey(signature, b), out var candidates))
                        foreach (var id in candidates)
                        {
                            if (hits.ContainsKey(id) || evalParts[id].Part != part) continue;
                            double s = MinHash.Similarity(signature, evalParts[id].Signature!);
                            if (s >= options.NearThreshold) hits[id] = (s, false);
                        }
            foreach (var (id, (similarity, isExact)) in hits)
            {
                var evalPart = evalParts[id];
                var item = eval[evalPart.Item];
                leakingTrain.Add(p.Example.Index);
                item.Matches++;
                if (item.Best is { } best && (best.Exact && !isExact || best.Similarity >= similarity)) continue;
                item.Best = new LeakPair(item.Split, item.Example.Index, item.Example.Location, part, similarity, isExact,
                    p.Example.Index, p.Example.Location, evalPart.Text, text, 0);
            }
        }
    }

    /// <summary>Secrets, personal data and balance of examples that end up in the prepared data.</summary>
    void Scan(RawExample[] examples)
    {
        var found = new (List<(string Field, SensitiveMatch Match, int Line)> Matches, List<string> TimedOut)[examples.Length];
        var script = new string?[examples.Length];
        Parallel.For(0, examples.Length, i =>
        {
            var matches = new List<(string, SensitiveMatch, int)>();
            var timedOut = new List<string>();
            foreach (var (field, text) in ExampleParts.Fields(examples[i]))
            {
                if (text.Length > options.MaxScanChars)
                {
                    timedOut.Add(string.Create(CultureInfo.InvariantCulture, $"field '{field}' is longer than {options.MaxScanChars:N0} characters"));
                    continue;
                }
                try
                {
                    foreach (var m in SensitiveData.Find(text)) matches.Add((field, m, LineOf(examples[i], text, m.Start)));
                }
                catch (RegexMatchTimeoutException) { timedOut.Add(string.Create(CultureInfo.InvariantCulture, $"field '{field}' took longer than {SensitiveData.Timeout.TotalSeconds:0.#} s to scan")); }
            }
            found[i] = (matches, timedOut);
            script[i] = UnicodeScripts.Dominant(ExampleParts.Whole(examples[i]));
        });
        for (int i = 0; i < examples.Length; i++)
        {
            var e = examples[i];
            scanned++;
            foreach (var reason in found[i].TimedOut)
                uncheckedRows.Add(new UncheckedRow(e.Location, "secrets and personal data", reason));
            foreach (var (field, m, line) in found[i].Matches)
            {
                totalFindings++;
                byKind[m.Kind.Name] = byKind.GetValueOrDefault(m.Kind.Name) + 1;
                if (findings.Count < options.MaxFindings)
                    findings.Add(new SensitiveFinding(m.Kind, e.Index, e.Location with { Line = line > 0 ? line : e.Location.Line }, field, SensitiveData.Preview(m)));
            }
            scripts.Add(script[i] ?? "(no letters)");
            foreach (var (name, counter) in fieldCounts)
            {
                string? value = e.Fields?.GetValueOrDefault(name);
                if (value is not null) fieldPresent[name] = fieldPresent.GetValueOrDefault(name) + 1;
                counter.Add(value);
            }
        }
    }

    /// <summary>The file line of a finding: in a plain-text file an example spans lines, so count the newlines before it.</summary>
    static int LineOf(RawExample e, string text, int offset)
    {
        if (e.Location.Line is not { } line || e.Format != DataFormat.Text) return 0;
        string ext = Path.GetExtension(e.Location.File).ToLowerInvariant();
        if (ext is not (".txt" or ".text" or ".md")) return 0;
        return line + text.AsSpan(0, offset).Count('\n');
    }

    // ---- whole datasets --------------------------------------------------------------------------

    /// <summary>
    /// Checks a loaded dataset: the examples in <paramref name="validationIndices"/> are the validation split, those in
    /// <paramref name="trainIndices"/> (every other one when null) are training; <paramref name="heldOut"/>, when
    /// given, is a held-out file (such as the questions <c>Tune.Compare</c> asks).
    /// </summary>
    public static QualityReport Run(RawDataset data, IReadOnlyCollection<int>? trainIndices = null, IReadOnlyCollection<int>? validationIndices = null,
        RawDataset? heldOut = null, DataCheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var checks = new DataChecks(options);
        var validation = validationIndices is null ? new HashSet<int>() : validationIndices.ToHashSet();
        var train = trainIndices?.ToHashSet();
        foreach (var e in data) if (validation.Contains(e.Index)) checks.AddEvaluation(e, ValidationSplit);
        if (heldOut is not null) foreach (var e in heldOut) checks.AddEvaluation(e, HeldOutSplit);
        foreach (var e in data)
            if (!validation.Contains(e.Index) && (train is null || train.Contains(e.Index))) checks.AddTraining(e);
        foreach (var s in data.SkippedRows) checks.AddUnchecked(new UncheckedRow(s.Location, "every check", s.Problem));
        return checks.Finish();
    }

    /// <summary>
    /// Checks a data file as training data without loading it whole: a JSON Lines file is read line by line (a line
    /// that cannot be read is named in <see cref="QualityReport.Unchecked"/> and skipped), so memory stays within the
    /// bounds of <see cref="DataChecks"/> however large the file; other file types are loaded first.
    /// </summary>
    public static QualityReport CheckFile(string path, RawDataset? heldOut = null, DataCheckOptions? options = null, DataFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: data file not found", path);
        var checks = new DataChecks(options);
        if (heldOut is not null) foreach (var e in heldOut) checks.AddEvaluation(e, HeldOutSplit);
        if (Path.GetExtension(path).ToLowerInvariant() is not (".jsonl" or ".ndjson"))
        {
            var data = Dataset.Load(path, format, new LoadOptions { SkipBadRows = true });
            foreach (var e in data) checks.AddTraining(e);
            foreach (var s in data.SkippedRows) checks.AddUnchecked(new UncheckedRow(s.Location, "every check", s.Problem));
            return checks.Finish();
        }
        foreach (var row in StreamJsonLines(path, format)) 
            if (row.Example is { } e) checks.AddTraining(e); else checks.AddUnchecked(row.Problem!);
        return checks.Finish();
    }

    /// <summary>The examples of a JSON Lines file one line at a time, or the problem of each line that is not one.</summary>
    public static IEnumerable<(RawExample? Example, UncheckedRow? Problem)> StreamJsonLines(string path, DataFormat? format = null)
    {
        int line = 0, index = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            var where = new RowLocation(path, line);
            RawExample? example = null;
            string? problem = null;
            try
            {
                if (JsonNode.Parse(text) is not JsonObject record) problem = "is not a JSON object";
                else
                {
                    format ??= Dataset.Detect(record, where);
                    example = Dataset.FromRecords([record], format, path)[0] with { Index = index, Location = where };
                }
            }
            catch (JsonException e) { problem = "is not valid JSON: " + e.Message.Split(" Path:")[0]; }
            catch (DataLoadException e) { problem = e.Field is null ? e.Problem : $"field '{e.Field}' {e.Problem}"; }
            if (example is not null) { index++; yield return (example, null); }
            else yield return (null, new UncheckedRow(where, "every check", problem!));
        }
    }
}
