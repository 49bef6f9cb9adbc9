using System.Reflection;
using Microsoft.CodeAnalysis;

namespace Tunebook.Kernel.Execution;

/// <summary>
/// What cells compile against: the runtime's own framework assemblies (Roslyn scripting needs the
/// implementation System.Private.CoreLib as its core library; reference assemblies do not work there).
/// Their XML documentation comes from the SDK's reference pack when it is installed, so inspection can
/// show summaries.
/// </summary>
static class ScriptReferences
{
    static readonly Dictionary<string, MetadataReference> Cache = new(StringComparer.Ordinal);

    public static IReadOnlyList<MetadataReference> Framework()
    {
        var refPack = FindReferencePack();
        return ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(p => IsFrameworkName(Path.GetFileNameWithoutExtension(p)))
            .Select(p => FromFile(p, refPack is null ? [] : DocumentationFor(refPack, Path.GetFileNameWithoutExtension(p))))
            .ToList();
    }

    /// <summary>System.Private.CoreLib's public types are documented across the reference assemblies that forward to it.</summary>
    static readonly string[] CoreLibDocumentation =
        ["System.Runtime", "System.Collections", "System.Threading", "System.Memory", "System.Runtime.InteropServices",
         "System.Text.Encoding.Extensions", "System.Runtime.Intrinsics", "System.Threading.Thread", "System.Diagnostics.Tracing"];

    static string[] DocumentationFor(string refPack, string assemblyName) =>
        (assemblyName == "System.Private.CoreLib" ? CoreLibDocumentation : [assemblyName])
            .Select(name => Path.Combine(refPack, name + ".xml")).Where(File.Exists).ToArray();

    public static bool IsFrameworkName(string name) =>
        name.StartsWith("System.", StringComparison.Ordinal) || name is "System" or "mscorlib" or "netstandard" or "Microsoft.CSharp" or "Microsoft.Win32.Primitives";

    /// <summary>packs/Microsoft.NETCore.App.Ref/&lt;version matching the runtime&gt;/ref/net&lt;major&gt;.&lt;minor&gt;.</summary>
    static string? FindReferencePack()
    {
        try
        {
            var runtimeDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;     // .../shared/Microsoft.NETCore.App/10.0.x
            var dotnetRoot = Path.GetFullPath(Path.Combine(runtimeDir, "..", "..", ".."));
            var packs = Path.Combine(dotnetRoot, "packs", "Microsoft.NETCore.App.Ref");
            if (!Directory.Exists(packs)) return null;
            var runtime = Environment.Version;
            var tfm = $"net{runtime.Major}.{runtime.Minor}";
            return Directory.EnumerateDirectories(packs)
                .Select(d => (dir: d, ok: Version.TryParse(Path.GetFileName(d).Split('-')[0], out var v), v))
                .Where(x => x.ok && x.v!.Major == runtime.Major && x.v.Minor == runtime.Minor)
                .OrderByDescending(x => x.v)
                .Select(x => Path.Combine(x.dir, "ref", tfm))
                .FirstOrDefault(Directory.Exists);
        }
        catch (Exception) { return null; }
    }

    /// <summary>A reference to one assembly file, with its XML documentation when a .xml sits beside it.</summary>
    public static MetadataReference FromFile(string path, string[]? documentation = null)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(path, out var cached)) return cached;
            var xml = documentation is { Length: > 0 } ? documentation : [Path.ChangeExtension(path, ".xml")];
            xml = xml.Where(File.Exists).ToArray();
            var reference = MetadataReference.CreateFromFile(path,
                documentation: xml.Length > 0 ? new XmlDocumentation(xml) : null);
            Cache[path] = reference;
            return reference;
        }
    }

    public static MetadataReference FromAssembly(Assembly assembly) => FromFile(assembly.Location);
}
