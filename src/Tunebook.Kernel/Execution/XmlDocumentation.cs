using System.Globalization;
using System.Xml;
using Microsoft.CodeAnalysis;

namespace Tunebook.Kernel.Execution;

/// <summary>
/// Reads an assembly's XML documentation file (the .xml beside the .dll) so inspection can show a
/// member's summary. Loaded on first use; members are looked up by their documentation ID ("M:System.String.Trim").
/// System.Private.CoreLib implements types documented across several reference assemblies, so one
/// provider may read several files, in order, each only when the earlier ones lack the member.
/// </summary>
sealed class XmlDocumentation(params string[] paths) : DocumentationProvider
{
    readonly Dictionary<string, string>?[] _files = new Dictionary<string, string>?[paths.Length];

    protected override string? GetDocumentationForSymbol(string documentationMemberID, CultureInfo preferredCulture, CancellationToken cancellationToken = default)
    {
        lock (_files)
            for (int i = 0; i < paths.Length; i++)
            {
                _files[i] ??= Load(paths[i]);
                if (_files[i]!.TryGetValue(documentationMemberID, out var xml)) return xml;
            }
        return null;
    }

    static Dictionary<string, string> Load(string path)
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

    public override bool Equals(object? obj) => obj is XmlDocumentation other && other._key == _key;
    public override int GetHashCode() => _key.GetHashCode();
    readonly string _key = string.Join("|", paths);
}
