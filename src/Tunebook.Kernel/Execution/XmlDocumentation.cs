using System.Globalization;
using System.Xml;
using Microsoft.CodeAnalysis;

namespace Tunebook.Kernel.Execution;

/// <summary>
/// Reads an assembly's XML documentation file (the .xml beside the .dll) so inspection can show a
/// member's summary. Loaded on first use; members are looked up by their documentation ID ("M:System.String.Trim").
/// </summary>
sealed class XmlDocumentation(string path) : DocumentationProvider
{
    Dictionary<string, string>? _members;

    protected override string? GetDocumentationForSymbol(string documentationMemberID, CultureInfo preferredCulture, CancellationToken cancellationToken = default)
    {
        _members ??= Load();
        return _members.TryGetValue(documentationMemberID, out var xml) ? xml : null;
    }

    Dictionary<string, string> Load()
    {
        var members = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var reader = XmlReader.Create(path, new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
            while (reader.ReadToFollowing("member"))
            {
                var name = reader.GetAttribute("name");
                var xml = reader.ReadOuterXml();
                if (name is not null) members[name] = xml;
            }
        }
        catch (Exception) { /* a broken doc file only means no documentation */ }
        return members;
    }

    public override bool Equals(object? obj) => obj is XmlDocumentation other && other._path == _path;
    public override int GetHashCode() => _path.GetHashCode();
    readonly string _path = path;
}
