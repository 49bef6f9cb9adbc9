using System.Diagnostics;
using Tunebook.Interactive;

namespace Tunebook.Kernel.Magics;

/// <summary>#!time: runs the rest of the cell and prints its wall-clock and CPU time, like IPython's %%time.</summary>
public sealed class TimeMagic : MagicCommand<NoOptions>
{
    public override string Name => "time";
    public override string Summary => "Run the rest of the cell and print how long it took (wall time and CPU time).";
    public override IReadOnlyList<string> Examples => ["#!time\nvar sum = Enumerable.Range(0, 1_000_000).Sum(i => (long)i);"];
    public override bool ConsumesCellBody => true;

    protected override async Task RunAsync(NoOptions options, IMagicContext context)
    {
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        try { await context.RunCodeAsync(context.CellBody); }
        finally
        {
            clock.Stop();
            process.Refresh();
            var cpuUsed = process.TotalProcessorTime - cpu;
            context.Out.WriteLine($"CPU time: {Format(cpuUsed)}, Wall time: {Format(clock.Elapsed)}");
        }
    }

    /// <summary>"812 µs", "23.4 ms", "1.52 s", "2 min 3.1 s".</summary>
    public static string Format(TimeSpan t) => t.TotalSeconds switch
    {
        < 1e-3 => $"{t.TotalMicroseconds:0} µs",
        < 1 => $"{t.TotalMilliseconds:0.0} ms",
        < 60 => $"{t.TotalSeconds:0.00} s",
        _ => $"{(int)t.TotalMinutes} min {t.Seconds + t.Milliseconds / 1000.0:0.0} s",
    };
}
