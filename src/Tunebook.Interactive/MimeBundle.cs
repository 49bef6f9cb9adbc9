using System.Collections;

namespace Tunebook.Interactive;

/// <summary>
/// One displayable value in several representations, keyed by MIME type
/// ("text/plain", "text/html", "image/svg+xml", "application/vnd.plotly.v1+json", ...).
/// Text types hold a string; JSON types hold a string of JSON (the host embeds it as JSON, not as a string);
/// "image/png" holds base64 text. A front end shows the richest type it understands, which is why a chart
/// carries both its Plotly JSON and a static SVG: GitHub and nbconvert run no scripts.
/// </summary>
public sealed class MimeBundle : IEnumerable<KeyValuePair<string, string>>
{
    readonly Dictionary<string, string> _data = new(StringComparer.Ordinal);

    /// <summary>Optional per-MIME metadata (for example image width), as JSON text keyed by MIME type.</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    public MimeBundle() { }

    public MimeBundle(string plainText) => _data["text/plain"] = plainText;

    public string? this[string mimeType]
    {
        get => _data.TryGetValue(mimeType, out var v) ? v : null;
        set { if (value is null) _data.Remove(mimeType); else _data[mimeType] = value; }
    }

    public IReadOnlyCollection<string> MimeTypes => _data.Keys;

    public bool Contains(string mimeType) => _data.ContainsKey(mimeType);

    /// <summary>Adds a representation and returns this bundle, so bundles read as one expression.</summary>
    public MimeBundle With(string mimeType, string data) { _data[mimeType] = data; return this; }

    /// <summary>True for MIME types whose payload is JSON and must be embedded as a JSON value.</summary>
    public static bool IsJsonMimeType(string mimeType) =>
        mimeType == "application/json" || mimeType.EndsWith("+json", StringComparison.Ordinal);

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _data.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
