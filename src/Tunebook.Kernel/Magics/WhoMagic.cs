using System.Net;
using System.Text;
using Tunebook.Interactive;
using Tunebook.Kernel.Execution;

namespace Tunebook.Kernel.Magics;

/// <summary>#!who: the session's variables with their types and values, as an HTML table (and plain text).</summary>
public sealed class WhoMagic(CellExecutor executor) : MagicCommand<NoOptions>
{
    public override string Name => "who";
    public override string Summary => "List the variables defined in this session, with their types and values.";

    protected override Task RunAsync(NoOptions options, IMagicContext context)
    {
        var rows = executor.Session.Variables
            .Select(v => (v.Name, Type: FriendlyName(v.Type), Value: Preview(v.Value)))
            .ToList();
        if (rows.Count == 0)
        {
            context.Out.WriteLine("No variables are defined yet.");
            return Task.CompletedTask;
        }
        int nameWidth = Math.Max(8, rows.Max(r => r.Name.Length)), typeWidth = Math.Max(4, rows.Max(r => r.Type.Length));
        var text = new StringBuilder();
        text.AppendLine($"{"Variable".PadRight(nameWidth)}  {"Type".PadRight(typeWidth)}  Value");
        text.AppendLine($"{new string('-', nameWidth)}  {new string('-', typeWidth)}  -----");
        foreach (var r in rows) text.AppendLine($"{r.Name.PadRight(nameWidth)}  {r.Type.PadRight(typeWidth)}  {r.Value}");

        var html = new StringBuilder("<table><thead><tr><th>Variable</th><th>Type</th><th>Value</th></tr></thead><tbody>");
        foreach (var r in rows)
            html.Append($"<tr><td><code>{Enc(r.Name)}</code></td><td><code>{Enc(r.Type)}</code></td><td>{Enc(r.Value)}</td></tr>");
        html.Append("</tbody></table>");

        context.Host.Display(new MimeBundle(text.ToString().TrimEnd()).With("text/html", html.ToString()));
        return Task.CompletedTask;
    }

    static string Enc(string s) => WebUtility.HtmlEncode(s);

    static string Preview(object? value)
    {
        string text;
        try { text = Formatters.PlainText(value); }
        catch (Exception e) { text = $"<ToString failed: {e.GetType().Name}>"; }
        text = text.ReplaceLineEndings(" ");
        return text.Length > 80 ? text[..77] + "..." : text;
    }

    /// <summary>Type names as a C# reader writes them (List&lt;int&gt;, not List`1).</summary>
    public static string FriendlyName(Type type) =>
        TypeNames.CSharpName(type).Replace("global::", "").Replace("System.Collections.Generic.", "").Replace("System.", "");
}
