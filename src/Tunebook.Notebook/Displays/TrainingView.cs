using System.Globalization;
using System.Text;
using Tunebook.Interactive;
using Tunebook.Models;
using Tunebook.Notebook.Charts;
using Tunebook.Tuning.Training;

namespace Tunebook.Notebook.Displays;

/// <summary>
/// The live view of a training run: one output area with a progress bar (step/total, tokens/s, elapsed, ETA)
/// and a metrics table, and one chart of train and validation loss (top) and perplexity (bottom) by step.
/// It subscribes to the trainer's events — the trainer itself renders nothing — and redraws at most once per
/// <see cref="MinInterval"/> however fast steps come; <see cref="Complete"/> always draws the final state,
/// including "stopped at step N" after an interrupt.
/// </summary>
public sealed class TrainingView : Formatters.IRichDisplay, IDisposable
{
    readonly Trainer _trainer;
    readonly INotebookHost _host;
    readonly TimeProvider _clock;
    readonly object _gate = new();
    readonly List<StepCompleted> _steps = [];
    readonly List<Evaluated> _evals = [];
    readonly List<string> _warnings = [];
    readonly List<string> _notes = [];
    IDisplayHandle? _progress;
    LiveChart? _chart;
    long _lastDraw;
    bool _dirty, _attached;
    int _sessionStartStep;
    long _sessionStart;

    /// <summary>Default minimum time between two redraws: a few updates a second.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(400);

    /// <summary>A view of <paramref name="trainer"/>'s history so far; <see cref="Show"/> puts it on screen and follows new events.</summary>
    public TrainingView(Trainer trainer, INotebookHost? host = null, TimeProvider? clock = null, TimeSpan? minInterval = null)
    {
        _trainer = trainer ?? throw new ArgumentNullException(nameof(trainer));
        _host = host ?? Interactive.Frontend.Host;
        _clock = clock ?? TimeProvider.System;
        MinInterval = minInterval ?? DefaultInterval;
        foreach (var e in trainer.History) Record(e);
        Status = trainer.GlobalStep == 0 ? "ready" : $"paused at step {trainer.GlobalStep}";
    }

    public TimeSpan MinInterval { get; }

    /// <summary>"training", "completed", "stopped at step N", ...</summary>
    public string Status { get; private set; }

    /// <summary>How many times the progress area was drawn (the chart redraws with it).</summary>
    public int Renders { get; private set; }

    /// <summary>The steps seen (whole history).</summary>
    public IReadOnlyList<StepCompleted> Steps => _steps;
    public IReadOnlyList<Evaluated> Evaluations => _evals;

    /// <summary>Shows the view and follows the trainer's events until <see cref="Complete"/>.</summary>
    public TrainingView Show()
    {
        lock (_gate)
        {
            if (!_attached) { _trainer.EventRaised += OnEvent; _attached = true; }
            _sessionStartStep = _trainer.GlobalStep;
            _sessionStart = _clock.GetTimestamp();
            Status = "training";
            _chart ??= new LiveChart(BuildChart, TimeSpan.Zero, _host, _clock);
            Draw();
        }
        return this;
    }

    void OnEvent(TrainingEvent e)
    {
        lock (_gate)
        {
            Record(e);
            if (e is TrainingStopped s) Status = Describe(s);
            // Evaluations are rare and worth seeing at once; steps are throttled.
            if (e is Evaluated || _clock.GetElapsedTime(_lastDraw) >= MinInterval) Draw();
            else _dirty = true;
        }
    }

    void Record(TrainingEvent e)
    {
        switch (e)
        {
            case StepCompleted s: _steps.Add(s); break;
            case Evaluated v: _evals.Add(v); break;
            case TrainingWarning w: _warnings.Add($"step {w.Step}: {w.Message}"); break;
            case TrainingStarted t when ModelNote(t) is { } note: _notes.Add(note); break;
        }
    }

    /// <summary>Stops following the trainer and draws the final state (always, even when nothing changed since the last draw).</summary>
    public void Complete(string? status = null)
    {
        lock (_gate)
        {
            if (_attached) { _trainer.EventRaised -= OnEvent; _attached = false; }
            if (status is not null) Status = status;
            Draw();
        }
    }

    /// <summary>The status line for a stop event.</summary>
    public static string Describe(TrainingStopped s) => s.Reason switch
    {
        StopReason.Completed => $"completed at step {s.Step}" + Best(s),
        StopReason.Cancelled => $"stopped at step {s.Step} (interrupted; #!train continue resumes)",
        StopReason.EarlyStopped => $"early stopped at step {s.Step}" + Best(s),
        _ => $"paused at step {s.Step}",
    };

    /// <summary>The status line after <see cref="Trainer.Stop"/>: "stopped at step N; best validation loss … at step B (weights restored)".</summary>
    public static string Describe(StopSummary s) =>
        $"stopped at step {s.Step}" + (s.BestStep is { } b && s.BestLoss is { } l
            ? string.Create(CultureInfo.InvariantCulture, $"; best validation loss {l:0.####} at step {b}{(s.RestoredBest ? " (weights restored)" : "")}")
            : "");

    /// <summary>What the trainer did to the model that outlives the run (the bf16 cast), or null.</summary>
    public static string? ModelNote(TrainingStarted s)
    {
        var cast = s.CastModelFrom is { } from
            ? $"the model was cast from {from} to bfloat16 for bf16 training and stays bfloat16 (model.to(ScalarType.Float32) casts it back)"
            : null;
        return s.PrecisionChoice is { } choice ? (cast is null ? choice : $"{choice}; {cast}") : cast;
    }

    static string Best(TrainingStopped s) =>
        s.BestStep is { } b && s.BestLoss is { } l ? string.Create(CultureInfo.InvariantCulture, $"; best validation loss {l:0.####} at step {b}") : "";

    void Draw()
    {
        _lastDraw = _clock.GetTimestamp();
        _dirty = false;
        Renders++;
        var bundle = ToMimeBundle();
        if (_progress is null) _progress = _host.Display(bundle);
        else _progress.Update(bundle);
        _chart?.Refresh(force: true);
    }

    /// <summary>True when events arrived since the last draw.</summary>
    public bool HasPendingChanges { get { lock (_gate) return _dirty; } }

    /// <summary>Train loss and (when evaluated) validation loss, and their perplexities, by step.</summary>
    public Figure BuildChart()
    {
        var train = _steps.Where(s => double.IsFinite(s.Loss)).ToList();
        var fig = Figure.Create().WithTitle("Training")
            .AddLine("train loss", train.Select(s => (double)s.Step), train.Select(s => s.Loss), color: Colorway.Default[0])
            .AddLine("train ppl", train.Select(s => (double)s.Step), train.Select(s => Math.Exp(Math.Min(s.Loss, 50))), color: Colorway.Default[0], row: 2, showInLegend: false);
        if (_evals.Count > 0)
            fig.AddLine("validation loss", _evals.Select(e => (double)e.Step), _evals.Select(e => e.Loss), markers: true, color: Colorway.Default[1])
               .AddLine("validation ppl", _evals.Select(e => (double)e.Step), _evals.Select(e => Math.Min(e.Perplexity, 1e20)), markers: true, color: Colorway.Default[1], row: 2, showInLegend: false);
        return fig.WithXAxis("step").WithYAxis("loss").WithYAxis("perplexity", log: true, row: 2).WithSize(Figure.DefaultWidth, 480);
    }

    double Elapsed => _steps.Count > 0 ? _steps[^1].ElapsedSeconds : 0;

    /// <summary>Remaining time from this session's pace (steps done since <see cref="Show"/>), or NaN before any.</summary>
    double Eta()
    {
        int done = _trainer.GlobalStep - _sessionStartStep;
        if (done <= 0 || _trainer.TotalSteps <= 0) return double.NaN;
        double seconds = _clock.GetElapsedTime(_sessionStart).TotalSeconds;
        return seconds / done * Math.Max(0, _trainer.TotalSteps - _trainer.GlobalStep);
    }

    IReadOnlyList<(string Label, string Value)> Metrics()
    {
        var rows = new List<(string, string)>();
        if (_steps.Count > 0)
        {
            var s = _steps[^1];
            rows.Add(("train loss", Html.Num(s.Loss)));
            rows.Add(("learning rate", s.LearningRate.ToString("0.###e0", CultureInfo.InvariantCulture)));
            rows.Add(("grad norm", Html.Num(s.GradNorm, "0.###")));
            rows.Add(("epoch", Html.Num(s.Epoch, "0.##")));
            rows.Add((s.PeakMemoryOnGpu ? "peak GPU memory" : "peak memory", ModelSummary.FormatBytes(s.PeakMemoryBytes)));
        }
        if (_evals.Count > 0)
        {
            var v = _evals[^1];
            rows.Add(("validation loss", $"{Html.Num(v.Loss)} (step {v.Step})"));
            rows.Add(("validation perplexity", Html.Num(v.Perplexity, "0.##")));
            var best = _evals.MinBy(e => e.Loss)!;
            rows.Add(("best validation loss", $"{Html.Num(best.Loss)} (step {best.Step})"));
        }
        return rows;
    }

    string ProgressLine()
    {
        int step = _trainer.GlobalStep, total = _trainer.TotalSteps;
        double tps = _steps.Count > 0 ? _steps[^1].TokensPerSecond : double.NaN;
        return string.Create(CultureInfo.InvariantCulture,
            $"step {step}/{total} · {Html.Num(tps, "0")} tokens/s · elapsed {Html.Duration(Elapsed)} · ETA {(Status == "training" ? Html.Duration(Eta()) : "–")}");
    }

    public override string ToString()
    {
        var sb = new StringBuilder($"{Status}: {ProgressLine()}");
        foreach (var (l, v) in Metrics()) sb.Append($"\n  {l}: {v}");
        foreach (var n in _notes) sb.Append($"\n  note: {n}");
        foreach (var w in _warnings.TakeLast(3)) sb.Append($"\n  warning {w}");
        return sb.ToString();
    }

    public MimeBundle ToMimeBundle()
    {
        int step = _trainer.GlobalStep, total = Math.Max(1, _trainer.TotalSteps);
        string color = Status.StartsWith("stopped", StringComparison.Ordinal) ? "#d08700" : Status == "training" ? "#2f80ed" : "#27ae60";
        var sb = new StringBuilder("<div>");
        sb.Append($"<div style=\"font-weight:600;margin:2px 0\">{Html.Encode(Status)}</div>");
        sb.Append($"<div>{Html.ProgressBar((double)step / total, color)} <span style=\"font-family:monospace;font-size:12px\">{Html.Encode(ProgressLine())}</span></div>");
        sb.Append(Html.KeyValues(Metrics()));
        foreach (var n in _notes) sb.Append($"<div style=\"font-size:12px\">{Html.Encode(n)}</div>");
        foreach (var w in _warnings.TakeLast(3)) sb.Append(Html.Warning(w));
        sb.Append("</div>");
        return new MimeBundle(ToString()).With("text/html", sb.ToString());
    }

    public void Dispose()
    {
        lock (_gate) if (_attached) { _trainer.EventRaised -= OnEvent; _attached = false; }
    }
}
