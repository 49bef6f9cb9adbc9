using System.Net;
using Microsoft.DotNet.Interactive.Formatting;
using Tunebook.Notebook.Charts;

namespace Tunebook.Interactive.DotNet;

/// <summary>
/// Teaches .NET Interactive's <see cref="Formatter"/> Tunebook's displays, so a cell that ends with
/// `model`, `trainer` or a chart shows what it shows in the Tunebook kernel. Every representation is the
/// value's own <see cref="MimeBundle"/> (Tunebook.Interactive.Formatters); nothing is drawn twice.
/// </summary>
/// <remarks>
/// .NET Interactive chooses the MIME types of a cell's value by its type, before it sees the value: a chart
/// (<see cref="Figure"/>) offers its Plotly JSON and its SVG; every other Tunebook type offers HTML, falling
/// back to the SVG or the text of its bundle when it has no HTML. A value shown with Frontend.Display or
/// by a magic goes through <see cref="DotNetInteractiveHost"/> instead and keeps every representation of its bundle.
/// </remarks>
public static class FormatterBridge
{
    public const string Html = "text/html", Plain = "text/plain", Svg = "image/svg+xml", Plotly = "application/vnd.plotly.v1+json";

    /// <summary>Registers the types Tunebook.Interactive.Formatters knows, and every value that displays itself.</summary>
    public static void Register()
    {
        foreach (var type in Formatters.RegisteredTypes.Append(typeof(Formatters.IRichDisplay)).Distinct())
            Register(type);
    }

    /// <summary>The MIME types a cell's value of <paramref name="type"/> is shown with.</summary>
    public static string[] MimeTypesFor(Type type) =>
        typeof(Figure).IsAssignableFrom(type) ? [Plotly, Svg, Plain] : [Html, Plain];

    static void Register(Type type)
    {
        var mimeTypes = MimeTypesFor(type);
        foreach (var mime in mimeTypes)
            Formatter.Register(type, (value, writer) => writer.Write(Representation(Formatters.Format(value), mime)), mime);
        Formatter.SetPreferredMimeTypesFor(type, mimeTypes);
    }

    /// <summary>The bundle's <paramref name="mimeType"/> entry; for HTML, the SVG or escaped text when the bundle has no HTML.</summary>
    public static string Representation(MimeBundle bundle, string mimeType) => mimeType switch
    {
        Html => bundle[Html] ?? bundle[Svg] ?? "<pre>" + WebUtility.HtmlEncode(bundle[Plain] ?? "") + "</pre>",
        _ => bundle[mimeType] ?? bundle[Plain] ?? "",
    };
}
