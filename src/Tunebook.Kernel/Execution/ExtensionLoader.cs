using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Tunebook.Interactive;

namespace Tunebook.Kernel.Execution;

/// <summary>
/// Finds and loads kernel extensions: assemblies carrying [assembly: KernelExtension(typeof(...))].
/// Assemblies are first checked by reading their metadata, so scanning a folder loads only the
/// extensions themselves. Each extension loads once per kernel.
/// </summary>
public sealed class ExtensionLoader
{
    readonly HashSet<string> _loaded = new(StringComparer.Ordinal);
    readonly TextWriter _log;

    public ExtensionLoader(TextWriter log) => _log = log;

    public IReadOnlyCollection<string> Loaded => _loaded;

    /// <summary>True when the file is a .NET assembly with a KernelExtension attribute (nothing is loaded).</summary>
    public static bool DeclaresExtension(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var pe = new PEReader(stream);
            if (!pe.HasMetadata) return false;
            var md = pe.GetMetadataReader();
            if (!md.IsAssembly) return false;
            foreach (var handle in md.GetAssemblyDefinition().GetCustomAttributes())
            {
                var ctor = md.GetCustomAttribute(handle).Constructor;
                EntityHandle parent = ctor.Kind switch
                {
                    HandleKind.MemberReference => md.GetMemberReference((MemberReferenceHandle)ctor).Parent,
                    HandleKind.MethodDefinition => md.GetMethodDefinition((MethodDefinitionHandle)ctor).GetDeclaringType(),
                    _ => default,
                };
                string? name = parent.Kind switch
                {
                    HandleKind.TypeReference => md.GetString(md.GetTypeReference((TypeReferenceHandle)parent).Name),
                    HandleKind.TypeDefinition => md.GetString(md.GetTypeDefinition((TypeDefinitionHandle)parent).Name),
                    _ => null,
                };
                if (name == nameof(KernelExtensionAttribute)) return true;
            }
        }
        catch (Exception) { /* not an assembly */ }
        return false;
    }

    /// <summary>Loads the extension assemblies of a folder (the kernel's own output folder at start).</summary>
    public IEnumerable<Assembly> FindInFolder(string folder)
    {
        foreach (var path in Directory.EnumerateFiles(folder, "*.dll").Order())
        {
            if (!DeclaresExtension(path)) continue;
            Assembly? assembly = null;
            try { assembly = LoadAssembly(path); }
            catch (Exception e) { _log.WriteLine($"[tunebook kernel] cannot load extension {path}: {e.Message}"); }
            if (assembly is not null) yield return assembly;
        }
    }

    /// <summary>
    /// The assembly at <paramref name="path"/>, reusing an already loaded copy with the same name so
    /// that types stay identical between the kernel, extensions and cells.
    /// </summary>
    public static Assembly LoadAssembly(string path)
    {
        var name = AssemblyName.GetAssemblyName(path);
        var existing = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => AssemblyName.ReferenceMatchesDefinition(name, a.GetName()) && a.GetName().Name == name.Name);
        if (existing is not null) return existing;
        try { return Assembly.Load(name); } // an assembly the application itself lists (deps.json)
        catch (FileNotFoundException) { return Assembly.LoadFrom(path); }
    }

    /// <summary>Runs every IKernelExtension the assembly declares. Returns the number of extensions loaded.</summary>
    public int Load(Assembly assembly, IExtensionContext context)
    {
        if (!_loaded.Add(assembly.FullName ?? assembly.Location)) return 0;
        int count = 0;
        foreach (var attribute in assembly.GetCustomAttributes<KernelExtensionAttribute>())
        {
            if (!typeof(IKernelExtension).IsAssignableFrom(attribute.ExtensionType))
                throw new InvalidOperationException($"{attribute.ExtensionType.FullName} in {assembly.GetName().Name} is named by [KernelExtension] but does not implement IKernelExtension");
            var extension = (IKernelExtension)(Activator.CreateInstance(attribute.ExtensionType)
                ?? throw new InvalidOperationException($"cannot create {attribute.ExtensionType.FullName}"));
            context.AddReferences(assembly);
            extension.Load(context);
            count++;
        }
        return count;
    }
}
