using System.Collections.Immutable;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;

namespace Tunebook.Kernel.Execution;

/// <summary>A failed cell as Jupyter shows it: ename, evalue and traceback lines (ANSI-coloured like IPython's).</summary>
public sealed record CellError(string EName, string EValue, IReadOnlyList<string> Traceback);

/// <summary>
/// Turns compile diagnostics and runtime exceptions into <see cref="CellError"/>s that show the user's code:
/// Roslyn's scripting frames and the kernel's own frames are removed, and submission names read as cells.
/// </summary>
public static partial class ErrorFormatter
{
    const string Red = "\u001b[0;31m", Green = "\u001b[0;32m", Reset = "\u001b[0m";

    public static CellError Compilation(ImmutableArray<Diagnostic> errors)
    {
        var lines = errors.Select(ScriptSession.FormatDiagnostic).ToList();
        var traceback = new List<string> { $"{Red}Compilation error{Reset}" };
        traceback.AddRange(lines.Select(l => $"{Red}{l}{Reset}"));
        return new CellError("CompilationError", string.Join("\n", lines), traceback);
    }

    public static CellError Usage(string message) =>
        new("MagicUsageError", message, message.Split('\n').Select((l, i) => i == 0 ? $"{Red}{l}{Reset}" : l).ToList());

    /// <summary>An interrupted cell reads like Python's KeyboardInterrupt, which is what front ends expect.</summary>
    public static CellError Interrupted(Exception e)
    {
        var traceback = new List<string> { $"{Red}KeyboardInterrupt{Reset}: the cell was interrupted and stopped at a cancellation check" };
        traceback.AddRange(UserFrames(e));
        return new CellError("KeyboardInterrupt", "interrupted", traceback);
    }

    public static CellError Runtime(Exception exception)
    {
        var e = Unwrap(exception);
        var traceback = new List<string> { $"{Red}{e.GetType().FullName}{Reset}: {e.Message}" };
        traceback.AddRange(UserFrames(e));
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            traceback.Add($"{Green} ---> {inner.GetType().FullName}{Reset}: {inner.Message}");
            traceback.AddRange(UserFrames(inner));
        }
        return new CellError(e.GetType().Name, e.Message, traceback);
    }

    /// <summary>Reflection and task wrappers hide the exception the user's code actually threw.</summary>
    public static Exception Unwrap(Exception e)
    {
        while (true)
        {
            if (e is TargetInvocationException { InnerException: { } t }) e = t;
            else if (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
            else return e;
        }
    }

    static readonly string[] HiddenFramePrefixes =
    [
        "Microsoft.CodeAnalysis.", "System.Runtime.CompilerServices.", "System.Runtime.ExceptionServices.",
        "System.Threading.Tasks.Task", "System.Threading.ExecutionContext", "Tunebook.Kernel.",
        "System.RuntimeMethodHandle", "System.Reflection.",
    ];

    /// <summary>The stack frames worth showing: the user's cells and the libraries they called.</summary>
    public static IEnumerable<string> UserFrames(Exception e)
    {
        foreach (var raw in (e.StackTrace ?? "").Split('\n'))
        {
            var line = raw.TrimEnd('\r').Trim();
            if (!line.StartsWith("at ", StringComparison.Ordinal)) continue;
            var frame = line[3..];
            if (HiddenFramePrefixes.Any(p => frame.StartsWith(p, StringComparison.Ordinal))) continue;
            frame = InitializeFrame().Replace(frame, "<cell>");
            frame = SubmissionPrefix().Replace(frame, "");
            frame = CellLocation().Replace(frame, m => $"in cell, line {m.Groups[2].Value}");
            yield return "   at " + frame;
        }
    }

    [GeneratedRegex(@"Submission#\d+\.<<Initialize>>d__\d+\.MoveNext\(\)")] private static partial Regex InitializeFrame();
    [GeneratedRegex(@"Submission#\d+\.")] private static partial Regex SubmissionPrefix();
    [GeneratedRegex(@"in (?:\S*/)?(cell\d*|analysis|init|setvar\d+|user_expression):line (\d+)")] private static partial Regex CellLocation();
}
