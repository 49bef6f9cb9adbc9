using System.Net;
using System.Text;
using Tunebook.Interactive;
using Tunebook.Kernel.Execution;

namespace Tunebook.Kernel.Magics;

/// <summary>#!help: every magic with its one-line summary, plus the #r directive.</summary>
public sealed class HelpMagic(CellExecutor executor) : MagicCommand<NoOptions>
{
    public override string Name => "help";
    public override string Summary => "List the magic commands; \"#!name --help\" shows one in detail.";

    protected override Task RunAsync(NoOptions options, IMagicContext context)
    {
        var rows = executor.MagicCommands.Values.OrderBy(m => m.Name)
            .Select(m => ("#!" + m.Name, m.Summary))
            .Append(("#r \"path.dll\"", "Reference an assembly file (a kernel extension in it is loaded)."))
            .Append(("#r \"nuget: Name, Version\"", "Restore a NuGet package with the .NET SDK and reference its assemblies."))
            .ToList();
        int width = rows.Max(r => r.Item1.Length) + 2;
        var text = new StringBuilder("Magic commands (lines at the top of a cell; \"#!name --help\" for details):\n\n");
        foreach (var (name, summary) in rows) text.AppendLine("  " + name.PadRight(width) + summary);

        var html = new StringBuilder("<table><thead><tr><th>Command</th><th>What it does</th></tr></thead><tbody>");
        foreach (var (name, summary) in rows)
            html.Append($"<tr><td><code>{WebUtility.HtmlEncode(name)}</code></td><td>{WebUtility.HtmlEncode(summary)}</td></tr>");
        html.Append("</tbody></table><p>Run <code>#!name --help</code> for the options of one command.</p>");
        context.Host.Display(new MimeBundle(text.ToString().TrimEnd()).With("text/html", html.ToString()));
        return Task.CompletedTask;
    }
}
