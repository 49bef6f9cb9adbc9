using Tunebook.Interactive;

namespace Tunebook.Notebook.Charts;

/// <summary>
/// A chart that redraws in place while a run progresses: one output area, updated (Jupyter's update_display_data)
/// at most once per <see cref="MinInterval"/>, however often <see cref="Refresh"/> is called. A training loop calls
/// Refresh after every logging step and <see cref="Complete"/> at the end, which always draws the final state.
/// <code>
/// var live = LiveChart.Show(() => Figure.Create()
///     .AddLine("train loss", steps, losses)
///     .AddLine("val loss", evalSteps, valLosses, markers: true)
///     .WithXAxis("step").WithYAxis("loss", log: true));
/// for (...) { ...; steps.Add(step); losses.Add(loss); live.Refresh(); }
/// live.Complete();
/// </code>
/// The builder runs on the caller's thread at each redraw; the cost of a redraw is building the figure, one SVG
/// (downsampled to the plot's width) and the Plotly JSON (every point) — throttling keeps the notebook front end,
/// which has to parse that JSON, responsive. Exceptions from the builder propagate to the caller of Refresh.
/// </summary>
public sealed class LiveChart
{
    readonly Func<Figure> _build;
    readonly INotebookHost _host;
    readonly TimeProvider _clock;
    readonly object _gate = new();
    IDisplayHandle? _handle;
    long _lastDraw;
    bool _dirty;

    /// <summary>The default minimum time between two redraws.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(1);

    /// <summary>Creates a live chart; nothing is shown until the first <see cref="Refresh"/>.</summary>
    public LiveChart(Func<Figure> build, TimeSpan? minInterval = null, INotebookHost? host = null, TimeProvider? clock = null)
    {
        _build = build ?? throw new ArgumentNullException(nameof(build));
        MinInterval = minInterval ?? DefaultInterval;
        if (MinInterval < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(minInterval), minInterval, "The redraw interval cannot be negative.");
        _host = host ?? Interactive.Frontend.Host;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>Creates a live chart and draws it now.</summary>
    public static LiveChart Show(Func<Figure> build, TimeSpan? minInterval = null, INotebookHost? host = null)
    {
        var chart = new LiveChart(build, minInterval, host);
        chart.Refresh(force: true);
        return chart;
    }

    /// <summary>The least time between two redraws.</summary>
    public TimeSpan MinInterval { get; }

    /// <summary>How many times the chart was drawn.</summary>
    public int Renders { get; private set; }

    /// <summary>The display's id once shown (to update it from elsewhere), or null.</summary>
    public string? DisplayId => _handle?.DisplayId;

    /// <summary>
    /// Redraws when <see cref="MinInterval"/> has passed since the last redraw (or with <paramref name="force"/>);
    /// otherwise only notes that there is something new, for <see cref="Complete"/>. Returns whether it redrew.
    /// </summary>
    public bool Refresh(bool force = false)
    {
        lock (_gate)
        {
            long now = _clock.GetTimestamp();
            if (!force && _handle is not null && _clock.GetElapsedTime(_lastDraw, now) < MinInterval)
            {
                _dirty = true;
                return false;
            }
            var figure = _build();
            if (_handle is null) _handle = _host.Display(figure);
            else _handle.Update(figure);
            _lastDraw = now;
            _dirty = false;
            Renders++;
            return true;
        }
    }

    /// <summary>Draws the final state if anything changed since the last redraw (or if nothing was drawn yet).</summary>
    public void Complete()
    {
        lock (_gate)
        {
            if (_dirty || _handle is null) Refresh(force: true);
        }
    }
}
