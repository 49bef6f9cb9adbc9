using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Interactive;
using Tunebook.Notebook.Charts;
using Tunebook.Tuning.Runs;
using Tunebook.Tuning.Training;

namespace Tunebook.Notebook.Displays;

/// <summary>A recorded run: its folder, run.json and the events of its metrics.jsonl.</summary>
public sealed record RecordedRun(string Folder, RunRecord Record, IReadOnlyList<TrainingEvent> History)
{
    public string Name => Record.Name;
    public Evaluated? Best => History.OfType<Evaluated>().MinBy(e => e.Loss);

    /// <summary>Reads a run folder (run.json and metrics.jsonl; errors name the file and the field or line).</summary>
    public static RecordedRun Load(string folder)
    {
        var record = RunRecord.Load(folder);
        var metrics = Path.Combine(folder, RunRecord.MetricsFileName);
        var events = new List<TrainingEvent>();
        if (File.Exists(metrics))
        {
            int line = 0;
            foreach (var text in File.ReadLines(metrics))
            {
                line++;
                if (string.IsNullOrWhiteSpace(text)) continue;
                try { events.Add(JsonSerializer.Deserialize<TrainingEvent>(text, Trainer.JsonOptions)!); }
                catch (JsonException e) { throw new InvalidDataException($"{metrics}:{line}: {e.Message}", e); }
            }
        }
        return new RecordedRun(folder, record, events);
    }
}

/// <summary>
/// The runs recorded in a folder (<c>#!runs</c>, <c>Tune.Runs</c>): a table — name, date, model, data, mode, r/alpha,
/// learning rate, batch, steps, best validation loss and its step, tokens/s, device — and one chart of every run's
/// train (solid) and validation (dashed) loss. <see cref="Compare"/> shows what differs between two records.
/// </summary>
public sealed class RunsView : Formatters.IRichDisplay
{
    public RunsView(IReadOnlyList<RecordedRun> runs, string? title = null)
    {
        Runs = runs ?? throw new ArgumentNullException(nameof(runs));
        Title = title ?? "Runs";
    }

    public IReadOnlyList<RecordedRun> Runs { get; }
    public string Title { get; }

    /// <summary>The runs in the sub-folders of <paramref name="folder"/> that hold a run.json, oldest first; the last <paramref name="last"/> when given.</summary>
    public static RunsView Load(string folder, int? last = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (last is < 1) throw new ArgumentOutOfRangeException(nameof(last), last, "--last: expected at least 1");
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{DisplayPath.Of(Path.GetFullPath(folder))}: no runs folder");
        var runs = Directory.EnumerateDirectories(folder)
            .Where(d => File.Exists(Path.Combine(d, RunRecord.FileName)))
            .Select(RecordedRun.Load)
            .OrderBy(r => r.Record.Started).ThenBy(r => r.Name, StringComparer.Ordinal)
            .ToList();
        if (last is { } n) runs = runs.Skip(Math.Max(0, runs.Count - n)).ToList();
        return new RunsView(runs, $"Runs in {DisplayPath.Of(Path.GetFullPath(folder))}");
    }

    /// <summary>The run named <paramref name="name"/> (its folder's name).</summary>
    public RecordedRun this[string name] => Runs.FirstOrDefault(r => r.Name == name)
        ?? throw new KeyNotFoundException($"no run named '{name}' (runs: {string.Join(", ", Runs.Select(r => r.Name))})");

    /// <summary>The fields of two run records that differ (options, inputs, environment, results).</summary>
    public RunDifference Compare(string a, string b) => RunDifference.Of(this[a], this[b]);

    static readonly string[] Header = ["Run", "Date", "Model", "Data", "Mode", "r/α", "LR", "Batch", "Steps", "Best val loss (step)", "Tokens/s", "Device"];

    public IReadOnlyList<IReadOnlyList<string>> TableRows() => Runs.Select(r =>
    {
        var record = r.Record;
        var inv = CultureInfo.InvariantCulture;
        var trainer = record.Options["trainer"];
        var adapter = record.Options["adapter"];
        string? Get(JsonNode? node, string key) => node?[key]?.ToString();
        var mode = Get(adapter, "mode") ?? (adapter is null ? "full" : "lora");
        var rAlpha = adapter is null || mode == "full" ? "–" : $"{Get(adapter, "r")}/{Get(adapter, "alpha")}";
        var data = record.Data.Files.FirstOrDefault(f => f.Role == "train") is { } f ? Path.GetFileName(f.Path) : "–";
        var steps = r.History.OfType<StepCompleted>().ToList();
        var best = r.Best;
        return (IReadOnlyList<string>)[
            r.Name, record.Started.ToUniversalTime().ToString("yyyy-MM-dd HH:mm", inv), Path.GetFileName(Path.TrimEndingDirectorySeparator(record.Model.Folder)),
            data, mode, rAlpha, Get(trainer, "learning_rate") ?? "–", Get(trainer, "batch_size") ?? "–",
            (record.Result?.Steps ?? steps.LastOrDefault()?.Step ?? 0).ToString(inv),
            best is null ? "–" : string.Create(inv, $"{best.Loss:0.0000} ({best.Step})"),
            steps.Count == 0 ? "–" : steps.Average(s => s.TokensPerSecond).ToString("0", inv), record.Environment.Device];
    }).ToList();

    /// <summary>Train and validation loss of every run on one chart.</summary>
    public Figure BuildFigure() => new SweepChart(Runs.Select(r => new SweepRun(r.Name, r.History)).ToList(), Title).BuildFigure();

    public override string ToString() =>
        string.Join("\n", TableRows().Select(r => string.Join(" | ", r)).Prepend(string.Join(" | ", Header)));

    public MimeBundle ToMimeBundle()
    {
        var table = Html.Table(Header, TableRows().Select(r => (IReadOnlyList<string>)r.Select(Html.Encode).ToList()), Title);
        if (Runs.Count == 0) return new MimeBundle(ToString()).With("text/html", table + Html.Note("No run folders (with run.json) yet."));
        var bundle = BuildFigure().ToMimeBundle();
        bundle["text/plain"] = ToString();
        bundle["text/html"] = table + (bundle["text/html"] ?? bundle[Figure.SvgMimeType] ?? "");
        return bundle;
    }
}

/// <summary>The fields in which two run records differ, as "options.trainer.learning_rate: 0.001 → 0.002".</summary>
public sealed class RunDifference(string a, string b, IReadOnlyList<(string Field, string? A, string? B)> fields) : Formatters.IRichDisplay
{
    public string A { get; } = a;
    public string B { get; } = b;
    public IReadOnlyList<(string Field, string? A, string? B)> Fields { get; } = fields;

    /// <summary>Every leaf field of the two records that differs; the name, times and the result fields are compared too.</summary>
    public static RunDifference Of(RecordedRun a, RecordedRun b)
    {
        var left = Flatten(JsonSerializer.SerializeToNode(a.Record, RunRecord.Json));
        var right = Flatten(JsonSerializer.SerializeToNode(b.Record, RunRecord.Json));
        var fields = left.Keys.Union(right.Keys).Order(StringComparer.Ordinal)
            .Select(k => (Field: k, A: left.GetValueOrDefault(k), B: right.GetValueOrDefault(k)))
            .Where(f => f.A != f.B).ToList();
        return new RunDifference(a.Name, b.Name, fields);
    }

    static Dictionary<string, string?> Flatten(JsonNode? node)
    {
        var result = new Dictionary<string, string?>();
        void Walk(JsonNode? n, string path)
        {
            switch (n)
            {
                case JsonObject o: foreach (var (k, v) in o) Walk(v, path.Length == 0 ? k : $"{path}.{k}"); break;
                case JsonArray arr: for (int i = 0; i < arr.Count; i++) Walk(arr[i], $"{path}[{i}]"); break;
                default: result[path] = n?.ToJsonString(); break;
            }
        }
        Walk(node, "");
        return result;
    }

    public override string ToString() =>
        Fields.Count == 0 ? $"{A} and {B}: the records are the same" :
        string.Join("\n", Fields.Select(f => $"{f.Field}: {f.A ?? "–"} → {f.B ?? "–"}").Prepend($"{A} → {B}: {Fields.Count} fields differ"));

    public MimeBundle ToMimeBundle() => new MimeBundle(ToString()).With("text/html",
        Html.Table(["Field", A, B], Fields.Select(f => (IReadOnlyList<string>)[Html.Encode(f.Field), Html.Encode(f.A ?? "–"), Html.Encode(f.B ?? "–")]), $"{A} vs {B}"));
}
