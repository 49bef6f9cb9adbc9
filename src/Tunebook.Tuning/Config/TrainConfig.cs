using System.Globalization;
using System.Text;
using YamlDotNet.RepresentationModel;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Config;

/// <summary>The data section of a training config.</summary>
public sealed record DataConfig
{
    /// <summary>Training examples (JSON lines, JSON, CSV or text).</summary>
    public required string File { get; init; }
    /// <summary>Separate validation examples (optional; otherwise <see cref="ValFraction"/> of the training file).</summary>
    public string? ValidationFile { get; init; }
    /// <summary>auto, chat, alpaca, completion or text.</summary>
    public string Format { get; init; } = "auto";
    /// <summary>Examples are cut to this many tokens.</summary>
    public int MaxLength { get; init; } = 512;
    /// <summary>Share of the training file held out for validation when there is no validation file.</summary>
    public double ValFraction { get; init; }
    /// <summary>Take the loss on the answer only (the prompt's labels are −100).</summary>
    public bool CompletionOnly { get; init; } = true;
    /// <summary>Pack several examples into each row (block-diagonal attention).</summary>
    public bool Packing { get; init; }
    /// <summary>A held-out file (questions asked after training), checked for leakage from the training file.</summary>
    public string? HeldoutFile { get; init; }
    /// <summary>Replace secrets and personal data by placeholders in the prepared data.</summary>
    public bool Redact { get; init; } = Tunebook.Tuning.Data.Quality.DataCheckOptions.Default.Redact;
    /// <summary>Leave leaking training examples out of training.</summary>
    public bool DropLeaks { get; init; } = Tunebook.Tuning.Data.Quality.DataCheckOptions.Default.DropLeaks;
    /// <summary>Keep one example of each near-duplicate cluster.</summary>
    public bool Dedupe { get; init; } = Tunebook.Tuning.Data.Quality.DataCheckOptions.Default.Dedupe;
    /// <summary>The field whose values the balance check counts (null: category, source, language... when present).</summary>
    public string? BalanceField { get; init; }

    /// <summary>The data-check options this section asks for.</summary>
    public Tunebook.Tuning.Data.Quality.DataCheckOptions ToCheckOptions() => Tunebook.Tuning.Data.Quality.DataCheckOptions.Default with
    {
        Redact = Redact, DropLeaks = DropLeaks, Dedupe = Dedupe, BalanceField = BalanceField,
    };
}

/// <summary>
/// The defaults of the trainer section: those of <see cref="TrainerOptions"/>, so a YAML run, <c>#!train</c> and
/// <c>new TrainerOptions { … }</c> mean the same thing when a key is left out.
/// </summary>
static class TrainerDefaults
{
    public static TrainerOptions Options { get; } = new();
    public static double LearningRate => Options.LearningRate;
    public static string ScheduleName => Options.Schedule.ToString().ToLowerInvariant();
}

/// <summary>The defaults of the adapter section: those of <see cref="LoraConfig"/>.</summary>
static class LoraDefaults
{
    static readonly LoraConfig Config = new();
    public static int R => Config.R;
    public static double Alpha => Config.Alpha;
    public static double Dropout => Config.Dropout;
    public static bool UseRsLora => Config.UseRsLora;
    public static LoraTargets Targets => Config.Targets;
}

/// <summary>The adapter section: lora, qlora or full fine-tuning.</summary>
public sealed record AdapterConfig
{
    /// <summary>lora, qlora or full.</summary>
    public string Mode { get; init; } = "lora";
    public int R { get; init; } = LoraDefaults.R;
    public double Alpha { get; init; } = LoraDefaults.Alpha;
    public double Dropout { get; init; } = LoraDefaults.Dropout;
    /// <summary>Module names, ["all-linear"], or null when <see cref="TargetsRegex"/> is set.</summary>
    public IReadOnlyList<string>? Targets { get; init; } = LoraDefaults.Targets.ModuleNames;
    /// <summary>A regular expression over full module paths (targets: {regex: ...}).</summary>
    public string? TargetsRegex { get; init; }
    public bool RsLora { get; init; }
    /// <summary>Modules trained in full beside the adapters (PEFT's modules_to_save), or null.</summary>
    public IReadOnlyList<string>? ModulesToSave { get; init; }

    /// <summary>The LoRA config this section describes.</summary>
    public LoraConfig ToLoraConfig() => new()
    {
        R = R, Alpha = Alpha, Dropout = Dropout, UseRsLora = RsLora, ModulesToSave = ModulesToSave,
        Targets = TargetsRegex is not null ? LoraTargets.Regex(TargetsRegex) : LoraTargets.Parse(Targets!),
    };
}

/// <summary>The trainer section.</summary>
public sealed record TrainerConfig
{
    public int? Steps { get; init; }
    public int? Epochs { get; init; }
    public double Lr { get; init; } = TrainerDefaults.LearningRate;
    public string Schedule { get; init; } = TrainerDefaults.ScheduleName;
    public int Warmup { get; init; }
    public int Batch { get; init; } = TrainerDefaults.Options.BatchSize;
    public int Accum { get; init; } = TrainerDefaults.Options.GradientAccumulation;
    /// <summary>Max gradient norm; null disables clipping.</summary>
    public double? Clip { get; init; } = TrainerDefaults.Options.MaxGradNorm;
    public double WeightDecay { get; init; }
    public int? EvalEvery { get; init; }
    public int? EarlyStoppingPatience { get; init; }
    public double EarlyStoppingMinDelta { get; init; }
    public long Seed { get; init; } = TrainerDefaults.Options.Seed;
    public string Device { get; init; } = "cpu";
    /// <summary>float32 or bfloat16.</summary>
    public string DType { get; init; } = "float32";
    public bool GradientCheckpointing { get; init; }
    public int LogEvery { get; init; } = 1;
    /// <summary>Write a resumable checkpoint to output/checkpoint every N steps.</summary>
    public int? CheckpointEvery { get; init; }

    /// <summary>The trainer options this section describes.</summary>
    public TrainerOptions ToOptions() => new()
    {
        MaxSteps = Steps, Epochs = Epochs, LearningRate = Lr, Schedule = LrSchedule.ParseKind(Schedule), WarmupSteps = Warmup,
        BatchSize = Batch, GradientAccumulation = Accum, MaxGradNorm = Clip, WeightDecay = WeightDecay, EvalEvery = EvalEvery,
        EarlyStoppingPatience = EarlyStoppingPatience, EarlyStoppingMinDelta = EarlyStoppingMinDelta, Seed = Seed,
        Precision = DType == "auto" ? TrainingPrecision.Auto
            : Torch.ScalarTypes.Parse(DType) == Torch.ScalarType.BFloat16 ? TrainingPrecision.BFloat16 : TrainingPrecision.Float32,
        GradientCheckpointing = GradientCheckpointing,
    };
}

/// <summary>
/// A training run described in YAML (<c>./tunebook train CONFIG.yaml</c>):
/// <code>
/// model: starter                  # a Hugging Face model folder, or "starter"
/// data:
///   file: datasets/puddle/train.jsonl
///   format: auto                  # chat | alpaca | completion | text
///   max_length: 128
///   val_fraction: 0.1
///   completion_only: true
///   packing: false
///   heldout_file: datasets/puddle/heldout.jsonl   # optional: checked for leakage from the training file
///   redact: false                 # replace secrets and personal data by placeholders (in memory)
///   drop_leaks: false             # leave leaking training examples out
///   dedupe: false                 # keep one example per near-duplicate cluster
///   balance_field: category       # optional: the field whose values are counted
/// adapter:
///   mode: lora                    # lora | qlora | full
///   r: 8
///   alpha: 16
///   dropout: 0.05                 # default 0 (LoraConfig.Dropout)
///   targets: [q_proj, k_proj, v_proj, o_proj]   # or all-linear, or {regex: '...'}
///   rslora: false
///   modules_to_save: [embed_tokens]  # optional: modules trained in full (new words, new tokens)
/// trainer:
///   steps: 200                    # or epochs: 3
///   lr: 2e-4
///   schedule: cosine              # constant | linear | cosine
///   warmup: 10
///   batch: 8
///   accum: 1
///   clip: 1.0
///   eval_every: 20
///   early_stopping: {patience: 3, min_delta: 0.0}
///   seed: 42
///   device: cpu
///   dtype: float32                # or bf16
/// output: runs/puddle-lora
/// </code>
/// Every value is checked; errors name the file, line and key, and unknown keys suggest the closest known one.
/// </summary>
public sealed record TrainConfig
{
    public required string Model { get; init; }
    public required DataConfig Data { get; init; }
    public AdapterConfig Adapter { get; init; } = new();
    public required TrainerConfig Trainer { get; init; }
    public required string Output { get; init; }
    /// <summary>The file it was read from (paths in it are relative to its folder).</summary>
    public string? SourceFile { get; init; }

    /// <summary>Reads and checks a YAML config file.</summary>
    public static TrainConfig Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"{path}: config file not found", path);
        return Parse(System.IO.File.ReadAllText(path), path);
    }

    /// <summary>Parses and checks YAML text; <paramref name="source"/> names it in errors.</summary>
    public static TrainConfig Parse(string yaml, string? source = null) => new Reader(source).Read(yaml);

    /// <summary>A path from the config, resolved against the config file's folder.</summary>
    public string Resolve(string path)
    {
        if (Path.IsPathRooted(path) || SourceFile is null) return path;
        return Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(SourceFile))!, path));
    }

    /// <summary>The resolved config, with every default filled in, as YAML (written next to the outputs).</summary>
    public string ToYaml()
    {
        static string S(string? s) => s is null ? "null" : "'" + s.Replace("'", "''") + "'";
        static string N(double d) => d.ToString("R", CultureInfo.InvariantCulture);
        static string B(bool b) => b ? "true" : "false";
        var sb = new StringBuilder();
        sb.Append("# resolved by ./tunebook train").Append(SourceFile is null ? "" : $" from {SourceFile}").Append('\n');
        sb.Append($"model: {S(Model)}\n");
        sb.Append("data:\n");
        sb.Append($"  file: {S(Data.File)}\n  validation_file: {S(Data.ValidationFile)}\n  format: {Data.Format}\n  max_length: {Data.MaxLength}\n");
        sb.Append($"  val_fraction: {N(Data.ValFraction)}\n  completion_only: {B(Data.CompletionOnly)}\n  packing: {B(Data.Packing)}\n");
        sb.Append($"  heldout_file: {S(Data.HeldoutFile)}\n  redact: {B(Data.Redact)}\n  drop_leaks: {B(Data.DropLeaks)}\n  dedupe: {B(Data.Dedupe)}\n  balance_field: {S(Data.BalanceField)}\n");
        sb.Append("adapter:\n");
        sb.Append($"  mode: {Adapter.Mode}\n  r: {Adapter.R}\n  alpha: {N(Adapter.Alpha)}\n  dropout: {N(Adapter.Dropout)}\n");
        sb.Append(Adapter.TargetsRegex is not null ? $"  targets: {{regex: {S(Adapter.TargetsRegex)}}}\n" :
            Adapter.Targets is ["all-linear"] ? "  targets: all-linear\n" : $"  targets: [{string.Join(", ", Adapter.Targets!)}]\n");
        sb.Append($"  rslora: {B(Adapter.RsLora)}\n");
        if (Adapter.ModulesToSave is { Count: > 0 } saved) sb.Append($"  modules_to_save: [{string.Join(", ", saved)}]\n");
        var t = Trainer;
        sb.Append("trainer:\n");
        if (t.Steps is { } steps) sb.Append($"  steps: {steps}\n");
        if (t.Epochs is { } epochs) sb.Append($"  epochs: {epochs}\n");
        sb.Append($"  lr: {N(t.Lr)}\n  schedule: {t.Schedule}\n  warmup: {t.Warmup}\n  batch: {t.Batch}\n  accum: {t.Accum}\n");
        sb.Append($"  clip: {(t.Clip is { } c ? N(c) : "null")}\n  weight_decay: {N(t.WeightDecay)}\n");
        sb.Append($"  eval_every: {(t.EvalEvery?.ToString(CultureInfo.InvariantCulture) ?? "null")}\n");
        sb.Append(t.EarlyStoppingPatience is { } p ? $"  early_stopping: {{patience: {p}, min_delta: {N(t.EarlyStoppingMinDelta)}}}\n" : "  early_stopping: null\n");
        sb.Append($"  seed: {t.Seed}\n  device: {t.Device}\n  dtype: {t.DType}\n  gradient_checkpointing: {B(t.GradientCheckpointing)}\n");
        sb.Append($"  log_every: {t.LogEvery}\n  checkpoint_every: {(t.CheckpointEvery?.ToString(CultureInfo.InvariantCulture) ?? "null")}\n");
        sb.Append($"output: {S(Output)}\n");
        return sb.ToString();
    }

    // ---- reading and checking ---------------------------------------------------------------------

    sealed class Reader(string? source)
    {
        static readonly string[] TopKeys = ["model", "data", "adapter", "trainer", "output"];
        static readonly string[] DataKeys = ["file", "validation_file", "format", "max_length", "val_fraction", "completion_only", "packing",
            "heldout_file", "redact", "drop_leaks", "dedupe", "balance_field"];
        static readonly string[] AdapterKeys = ["mode", "r", "alpha", "dropout", "targets", "rslora", "modules_to_save"];
        static readonly string[] TrainerKeys = ["steps", "epochs", "lr", "schedule", "warmup", "batch", "accum", "clip", "weight_decay",
            "eval_every", "early_stopping", "seed", "device", "dtype", "gradient_checkpointing", "log_every", "checkpoint_every"];
        static readonly string[] EarlyStoppingKeys = ["patience", "min_delta"];

        TrainConfigException Error(YamlNode? node, string key, string message) =>
            new(source, node is null ? null : (int)node.Start.Line, key, message);

        public TrainConfig Read(string yaml)
        {
            var stream = new YamlStream();
            try { stream.Load(new StringReader(yaml)); }
            catch (YamlDotNet.Core.YamlException e)
            {
                throw new TrainConfigException(source, (int)e.Start.Line, "(file)", $"invalid YAML: {e.InnerException?.Message ?? e.Message}");
            }
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
                throw new TrainConfigException(source, 1, "(file)", "expected a mapping with the keys model, data, adapter, trainer, output");
            var top = Keys(root, "", TopKeys);
            var model = RequiredString(top, root, "model");
            var output = RequiredString(top, root, "output");
            var dataNode = Section(top, root, "data", required: true)!;
            var data = ReadData(dataNode);
            var adapterNode = Section(top, root, "adapter", required: false);
            var adapter = adapterNode is null ? new AdapterConfig() : ReadAdapter(adapterNode);
            var trainerNode = Section(top, root, "trainer", required: true)!;
            var trainer = ReadTrainer(trainerNode);
            return new TrainConfig { Model = model, Output = output, Data = data, Adapter = adapter, Trainer = trainer, SourceFile = source };
        }

        Dictionary<string, YamlNode> Keys(YamlMappingNode map, string prefix, string[] known)
        {
            var result = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            foreach (var (k, v) in map.Children)
            {
                var key = (k as YamlScalarNode)?.Value ?? throw Error(k, prefix + "?", "keys must be plain names");
                var full = prefix + key;
                if (!known.Contains(key))
                {
                    var suggestion = Suggest(key, known);
                    throw Error(k, full, $"unknown key{(suggestion is null ? "" : $"; did you mean '{prefix}{suggestion}'?")} (known keys{(prefix.Length == 0 ? "" : " of " + prefix.TrimEnd('.'))}: {string.Join(", ", known)})");
                }
                if (!result.TryAdd(key, v)) throw Error(k, full, "given twice");
            }
            return result;
        }

        /// <summary>The known key closest to <paramref name="key"/> by edit distance, when close enough to be a typo.</summary>
        internal static string? Suggest(string key, IEnumerable<string> known)
        {
            var best = known.Select(k => (k, d: Distance(key.ToLowerInvariant(), k))).OrderBy(x => x.d).First();
            return best.d <= Math.Max(2, best.k.Length / 3) ? best.k : null;
        }

        static int Distance(string a, string b)
        {
            var d = new int[a.Length + 1, b.Length + 1];
            for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
            for (int j = 0; j <= b.Length; j++) d[0, j] = j;
            for (int i = 1; i <= a.Length; i++)
                for (int j = 1; j <= b.Length; j++)
                    d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            return d[a.Length, b.Length];
        }

        YamlMappingNode? Section(Dictionary<string, YamlNode> keys, YamlNode parent, string name, bool required)
        {
            if (!keys.TryGetValue(name, out var node) || IsNull(node))
                return required ? throw Error(parent, name, "missing section") : null;
            return node as YamlMappingNode ?? throw Error(node, name, $"expected a section (a mapping of keys), got {Describe(node)}");
        }

        static bool IsNull(YamlNode node) => node is YamlScalarNode { Value: null or "" or "null" or "~", Style: YamlDotNet.Core.ScalarStyle.Plain };

        static string Describe(YamlNode node) => node switch
        {
            YamlScalarNode s => $"'{s.Value}'",
            YamlSequenceNode => "a list",
            YamlMappingNode => "a mapping",
            _ => "something else",
        };

        string RequiredString(Dictionary<string, YamlNode> keys, YamlNode parent, string key, string prefix = "")
        {
            if (!keys.TryGetValue(key, out var node) || IsNull(node)) throw Error(parent, prefix + key, "missing (required)");
            return String(node, prefix + key);
        }

        string String(YamlNode node, string key) =>
            node is YamlScalarNode { Value: { Length: > 0 } v } ? v : throw Error(node, key, $"expected a string, got {Describe(node)}");

        string? OptString(Dictionary<string, YamlNode> keys, string key, string full) =>
            keys.TryGetValue(key, out var n) && !IsNull(n) ? String(n, full) : null;

        string Choice(Dictionary<string, YamlNode> keys, string key, string full, string fallback, params string[] choices)
        {
            if (!keys.TryGetValue(key, out var n) || IsNull(n)) return fallback;
            var v = String(n, full);
            if (choices.Contains(v)) return v;
            var s = Suggest(v, choices);
            throw Error(n, full, $"expected one of {string.Join(", ", choices)}, got '{v}'{(s is null ? "" : $"; did you mean '{s}'?")}");
        }

        double Number(Dictionary<string, YamlNode> keys, string key, string full, double fallback, Func<double, bool> ok, string expected)
        {
            if (!keys.TryGetValue(key, out var n) || IsNull(n)) return fallback;
            return NumberOf(n, full, ok, expected);
        }

        double NumberOf(YamlNode n, string full, Func<double, bool> ok, string expected)
        {
            if (n is YamlScalarNode s && s.Style == YamlDotNet.Core.ScalarStyle.Plain &&
                double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && ok(v))
                return v;
            throw Error(n, full, $"expected {expected}, got {Describe(n)}");
        }

        int? OptInt(Dictionary<string, YamlNode> keys, string key, string full, int min)
        {
            if (!keys.TryGetValue(key, out var n) || IsNull(n)) return null;
            string expected = min == 0 ? "an integer ≥ 0" : $"an integer ≥ {min}";
            if (n is YamlScalarNode s && s.Style == YamlDotNet.Core.ScalarStyle.Plain &&
                int.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min)
                return v;
            throw Error(n, full, $"expected {expected}, got {Describe(n)}");
        }

        bool Bool(Dictionary<string, YamlNode> keys, string key, string full, bool fallback)
        {
            if (!keys.TryGetValue(key, out var n) || IsNull(n)) return fallback;
            if (n is YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } s)
                switch (s.Value?.ToLowerInvariant())
                {
                    case "true" or "yes" or "on": return true;
                    case "false" or "no" or "off": return false;
                }
            throw Error(n, full, $"expected true or false, got {Describe(n)}");
        }

        DataConfig ReadData(YamlMappingNode node)
        {
            var k = Keys(node, "data.", DataKeys);
            return new DataConfig
            {
                File = RequiredString(k, node, "file", "data."),
                ValidationFile = OptString(k, "validation_file", "data.validation_file"),
                Format = Choice(k, "format", "data.format", "auto", "auto", "chat", "alpaca", "completion", "text"),
                MaxLength = OptInt(k, "max_length", "data.max_length", 2) ?? 512,
                ValFraction = Number(k, "val_fraction", "data.val_fraction", 0, v => v >= 0 && v < 1, "a number in [0, 1)"),
                CompletionOnly = Bool(k, "completion_only", "data.completion_only", true),
                Packing = Bool(k, "packing", "data.packing", false),
                HeldoutFile = OptString(k, "heldout_file", "data.heldout_file"),
                Redact = Bool(k, "redact", "data.redact", Tunebook.Tuning.Data.Quality.DataCheckOptions.Default.Redact),
                DropLeaks = Bool(k, "drop_leaks", "data.drop_leaks", Tunebook.Tuning.Data.Quality.DataCheckOptions.Default.DropLeaks),
                Dedupe = Bool(k, "dedupe", "data.dedupe", Tunebook.Tuning.Data.Quality.DataCheckOptions.Default.Dedupe),
                BalanceField = OptString(k, "balance_field", "data.balance_field"),
            };
        }

        AdapterConfig ReadAdapter(YamlMappingNode node)
        {
            var k = Keys(node, "adapter.", AdapterKeys);
            IReadOnlyList<string>? targets = LoraDefaults.Targets.ModuleNames;
            string? regex = null;
            if (k.TryGetValue("targets", out var t) && !IsNull(t))
            {
                switch (t)
                {
                    case YamlScalarNode s:
                        var v = String(s, "adapter.targets");
                        targets = v == "all-linear" ? ["all-linear"] : v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                        break;
                    case YamlSequenceNode seq:
                        if (seq.Children.Count == 0) throw Error(seq, "adapter.targets", "expected at least one module name");
                        targets = seq.Children.Select((c, i) => String(c, $"adapter.targets[{i}]")).ToList();
                        break;
                    case YamlMappingNode map:
                        var mk = Keys(map, "adapter.targets.", ["regex"]);
                        regex = RequiredString(mk, map, "regex", "adapter.targets.");
                        try { LoraTargets.Regex(regex); }
                        catch (ArgumentException e) { throw Error(mk["regex"], "adapter.targets.regex", e.Message); }
                        targets = null;
                        break;
                }
            }
            var mode = Choice(k, "mode", "adapter.mode", "lora", "lora", "qlora", "full");
            IReadOnlyList<string>? modulesToSave = null;
            if (k.TryGetValue("modules_to_save", out var ms) && !IsNull(ms))
                modulesToSave = ms switch
                {
                    YamlSequenceNode seq => seq.Children.Select((c, i) => String(c, $"adapter.modules_to_save[{i}]")).ToList(),
                    YamlScalarNode s => String(s, "adapter.modules_to_save").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                    _ => throw Error(ms, "adapter.modules_to_save", "expected a list of module names"),
                };
            return new AdapterConfig
            {
                Mode = mode,
                R = OptInt(k, "r", "adapter.r", 1) ?? LoraDefaults.R,
                Alpha = Number(k, "alpha", "adapter.alpha", LoraDefaults.Alpha, v => v > 0, "a number > 0"),
                Dropout = Number(k, "dropout", "adapter.dropout", LoraDefaults.Dropout, v => v >= 0 && v < 1, "a number in [0, 1)"),
                Targets = targets,
                TargetsRegex = regex,
                RsLora = Bool(k, "rslora", "adapter.rslora", LoraDefaults.UseRsLora),
                ModulesToSave = modulesToSave,
            };
        }

        // float32 or bfloat16, in any spelling the one dtype parser (ScalarTypes.Parse) reads; kept as its canonical name.
        // Or auto: bf16 where this device multiplies it clearly faster (TrainingPrecision.Auto).
        string TrainingDType(string value, YamlNode? node)
        {
            if (string.Equals(value.Trim(), "auto", StringComparison.OrdinalIgnoreCase)) return "auto";
            Torch.ScalarType? type = null;
            try { type = Torch.ScalarTypes.Parse(value); }
            catch (ArgumentException) { }
            return type is Torch.ScalarType.Float32 or Torch.ScalarType.BFloat16
                ? Torch.ScalarTypes.Name(type.Value)
                : throw Error(node, "trainer.dtype", $"expected one of float32, bfloat16 (or fp32, bf16), auto, got '{value}'");
        }

        TrainerConfig ReadTrainer(YamlMappingNode node)
        {
            var k = Keys(node, "trainer.", TrainerKeys);
            var steps = OptInt(k, "steps", "trainer.steps", 1);
            var epochs = OptInt(k, "epochs", "trainer.epochs", 1);
            if (steps is null && epochs is null) throw Error(node, "trainer.steps", "give trainer.steps or trainer.epochs");
            if (steps is not null && epochs is not null) throw Error(k["epochs"], "trainer.epochs", "give trainer.steps or trainer.epochs, not both");
            double? clip = TrainerDefaults.Options.MaxGradNorm;
            if (k.TryGetValue("clip", out var c))
            {
                if (IsNull(c) || c is YamlScalarNode { Value: "false" or "none" }) clip = null;
                else clip = NumberOf(c, "trainer.clip", v => v > 0, "a number > 0 (or null for no clipping)");
            }
            int? patience = null;
            double minDelta = 0;
            if (k.TryGetValue("early_stopping", out var es) && !IsNull(es))
            {
                if (es is YamlMappingNode esMap)
                {
                    var ek = Keys(esMap, "trainer.early_stopping.", EarlyStoppingKeys);
                    patience = OptInt(ek, "patience", "trainer.early_stopping.patience", 1) ?? throw Error(esMap, "trainer.early_stopping.patience", "missing (required)");
                    minDelta = Number(ek, "min_delta", "trainer.early_stopping.min_delta", 0, v => v >= 0, "a number ≥ 0");
                }
                else
                {
                    patience = (int)NumberOf(es, "trainer.early_stopping", v => v >= 1 && v == Math.Floor(v), "an integer patience ≥ 1 or {patience, min_delta}");
                }
            }
            var device = OptString(k, "device", "trainer.device") ?? "cpu";
            try { Torch.Device.ParseSpec(device); }
            catch (ArgumentException) { throw Error(k["device"], "trainer.device", $"expected cpu, cuda or cuda:N, got '{device}'"); }
            var dtype = TrainingDType(OptString(k, "dtype", "trainer.dtype") ?? "float32", k.GetValueOrDefault("dtype"));
            var eval = OptInt(k, "eval_every", "trainer.eval_every", 1);
            if (patience is not null && eval is null)
                throw Error(k["early_stopping"], "trainer.early_stopping", "needs trainer.eval_every (early stopping watches the periodic evaluations)");
            long seed = k.TryGetValue("seed", out var sn) && !IsNull(sn)
                ? (sn is YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } ss && long.TryParse(ss.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var sv) ? sv : throw Error(sn, "trainer.seed", $"expected an integer, got {Describe(sn)}"))
                : TrainerDefaults.Options.Seed;
            return new TrainerConfig
            {
                Steps = steps,
                Epochs = epochs,
                Lr = Number(k, "lr", "trainer.lr", TrainerDefaults.LearningRate, v => v > 0, "a number > 0"),
                Schedule = Choice(k, "schedule", "trainer.schedule", TrainerDefaults.ScheduleName, "constant", "linear", "cosine"),
                Warmup = OptInt(k, "warmup", "trainer.warmup", 0) ?? TrainerDefaults.Options.WarmupSteps,
                Batch = OptInt(k, "batch", "trainer.batch", 1) ?? TrainerDefaults.Options.BatchSize,
                Accum = OptInt(k, "accum", "trainer.accum", 1) ?? TrainerDefaults.Options.GradientAccumulation,
                Clip = clip,
                WeightDecay = Number(k, "weight_decay", "trainer.weight_decay", TrainerDefaults.Options.WeightDecay, v => v >= 0, "a number ≥ 0"),
                EvalEvery = eval,
                EarlyStoppingPatience = patience,
                EarlyStoppingMinDelta = minDelta,
                Seed = seed,
                Device = device,
                DType = dtype,
                GradientCheckpointing = Bool(k, "gradient_checkpointing", "trainer.gradient_checkpointing", TrainerDefaults.Options.GradientCheckpointing),
                LogEvery = OptInt(k, "log_every", "trainer.log_every", 1) ?? 1,
                CheckpointEvery = OptInt(k, "checkpoint_every", "trainer.checkpoint_every", 1),
            };
        }
    }
}
