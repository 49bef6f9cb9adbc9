using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Scripting;
using Tunebook.Interactive;

namespace Tunebook.Kernel.Execution;

/// <summary>What running one cell produced.</summary>
public sealed record CellOutcome(object? Value, bool HasValue, CellError? Error)
{
    public bool Ok => Error is null;
}

/// <summary>
/// Runs notebook cells: the "#!magic" lines at the top of a cell, then "#r" references (files and
/// NuGet packages), then the rest as C# in the session. Also the <see cref="IExtensionContext"/>
/// extensions load into. One cell at a time.
/// </summary>
public sealed partial class CellExecutor : IExtensionContext
{
    readonly Dictionary<string, MagicCommand> _magics = new(StringComparer.Ordinal);
    readonly NuGetRestorer _nuget;
    readonly TextWriter _log;
    int _internalSubmissions;

    public ScriptSession Session { get; }
    public INotebookHost Host { get; }
    public ExtensionLoader Extensions { get; }

    public CellExecutor(INotebookHost host, TextWriter log, NuGetRestorer? nuget = null)
    {
        Host = host;
        _log = log;
        _nuget = nuget ?? new NuGetRestorer();
        Session = new ScriptSession(new KernelGlobals(host));
        Extensions = new ExtensionLoader(log);
        foreach (var magic in Magics.BuiltIn.Create(this)) AddMagic(magic);
    }

    public IReadOnlyDictionary<string, MagicCommand> MagicCommands => _magics;

    // IExtensionContext
    public void AddMagic(MagicCommand magic) => _magics[magic.Name] = magic;
    public void AddUsings(params string[] namespaces) => Session.AddUsings(namespaces);
    public void AddReferences(params Assembly[] assemblies) { foreach (var a in assemblies) Session.AddReference(a); }

    /// <summary>Loads the extensions found beside the kernel (for example the notebook toolkit).</summary>
    public void LoadExtensionsFrom(string folder)
    {
        foreach (var assembly in Extensions.FindInFolder(folder))
        {
            try { Extensions.Load(assembly, this); }
            catch (Exception e) { _log.WriteLine($"[tunebook kernel] extension {assembly.GetName().Name} failed to load: {ErrorFormatter.Unwrap(e)}"); }
        }
    }

    /// <summary>Runs one cell and reports its value or its error; never throws for anything the cell does.</summary>
    public async Task<CellOutcome> ExecuteAsync(string code)
    {
        // The loops and awaits of the cell (and of the tasks and threads it starts) observe this token.
        CellGuard.Use(Host.Cancellation);
        try
        {
            var (value, hasValue) = await RunCellAsync(code, lineOffset: 0).ConfigureAwait(false);
            return new CellOutcome(value, hasValue, null);
        }
        catch (Exception e) { return new CellOutcome(null, false, Describe(e)); }
    }

    CellError Describe(Exception e)
    {
        e = ErrorFormatter.Unwrap(e);
        return e switch
        {
            MagicUsageException usage => ErrorFormatter.Usage(usage.Message),
            CompilationErrorException compile => ErrorFormatter.Compilation(compile.Diagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error).ToImmutableArray()),
            OperationCanceledException when Host.Cancellation.IsCancellationRequested => ErrorFormatter.Interrupted(e),
            _ => ErrorFormatter.Runtime(e),
        };
    }

    /// <summary>
    /// The cell pipeline. Throws what the cell threw (compile errors as <see cref="CompilationErrorException"/>).
    /// <paramref name="lineOffset"/> blank lines are prepended to C# so line numbers match the enclosing cell.
    /// </summary>
    internal async Task<(object? Value, bool HasValue)> RunCellAsync(string code, int lineOffset)
    {
        var lines = code.Replace("\r\n", "\n").Split('\n');
        int first = 0;
        while (first < lines.Length)
        {
            var trimmed = lines[first].Trim();
            if (trimmed.Length == 0) { first++; continue; }
            if (!trimmed.StartsWith("#!", StringComparison.Ordinal)) break;

            var body = string.Join("\n", lines.Skip(first + 1));
            var (magic, options, help) = ParseMagic(trimmed);
            lines[first] = "";
            if (help)
            {
                Console.Out.WriteLine(MagicHelp.Usage(magic));
                return (null, false);
            }
            var context = new MagicContext(this, body, lineOffset + first + 1);
            await magic.RunAsync(options!, context).ConfigureAwait(false);
            if (magic.ConsumesCellBody) return (context.LastValue, context.LastHasValue);
            first++;
        }

        await ResolveReferencesAsync(lines).ConfigureAwait(false);
        var csharp = string.Join("\n", lines);
        if (string.IsNullOrWhiteSpace(csharp)) return (null, false);
        var result = await Session.RunCodeAsync(new string('\n', lineOffset) + csharp).ConfigureAwait(false);
        if (result.Exception is not null) ExceptionDispatchInfo.Capture(result.Exception).Throw();
        return (result.Value, result.HasValue);
    }

    (MagicCommand Magic, object? Options, bool Help) ParseMagic(string line)
    {
        var text = line[2..];
        int space = text.IndexOfAny([' ', '\t']);
        var name = space < 0 ? text : text[..space];
        var args = space < 0 ? "" : text[(space + 1)..];
        if (!_magics.TryGetValue(name, out var magic))
        {
            var known = string.Join(", ", _magics.Keys.Order().Select(k => "#!" + k));
            throw new MagicUsageException($"unknown magic command #!{name}. Known magics: {known}. Run #!help for a description of each.");
        }
        IReadOnlyList<string> tokens;
        try { tokens = MagicParser.Tokenize(args); }
        catch (MagicUsageException e) { throw MagicParser.WithUsage(magic, e.Message); }
        if (MagicParser.IsHelpRequest(tokens)) return (magic, null, true);
        return (magic, MagicParser.Parse(magic, args), false);
    }

    /// <summary>
    /// "#r" lines before the first C# statement: a file path or "nuget: Name, Version". Each becomes a
    /// session reference (the line is blanked so line numbers stay put); an assembly carrying
    /// [KernelExtension] is loaded as an extension.
    /// </summary>
    async Task ResolveReferencesAsync(string[] lines)
    {
        for (int i = 0; i < lines.Length; i++)
        {
            var trimmed = lines[i].Trim();
            if (trimmed.Length == 0 || trimmed.StartsWith("//", StringComparison.Ordinal)) continue;
            var match = ReferenceLine().Match(trimmed);
            if (!match.Success)
            {
                if (trimmed.StartsWith("#r", StringComparison.Ordinal) && (trimmed.Length == 2 || char.IsWhiteSpace(trimmed[2])))
                    throw new MagicUsageException($"line {i + 1}: expected #r \"path/to/assembly.dll\" or #r \"nuget: Name, Version\", got {trimmed}");
                if (trimmed.StartsWith('#')) continue; // other directives (#load, #nullable) are Roslyn's
                break;
            }
            var target = match.Groups[1].Value.Trim();
            lines[i] = "";
            if (target.StartsWith("nuget:", StringComparison.OrdinalIgnoreCase))
            {
                (string name, string? version) spec;
                try { spec = NuGetRestorer.ParseSpec(target["nuget:".Length..]); }
                catch (ArgumentException e) { throw new MagicUsageException(e.Message); }
                Console.Out.WriteLine($"Restoring NuGet package {spec.name}{(spec.version is null ? "" : " " + spec.version)}...");
                var paths = await _nuget.RestoreAsync(spec.name, spec.version, Host.Cancellation).ConfigureAwait(false);
                foreach (var path in paths) ReferenceLoaded(path);
                Console.Out.WriteLine($"Installed {spec.name}: {string.Join(", ", paths.Select(Path.GetFileNameWithoutExtension))}");
            }
            else if (IsAssemblyName(target) && TryLoadByName(target) is { } known)
            {
                AddReferences(known); // #r "System.Net.Http": an assembly the runtime already knows by name
            }
            else
            {
                var path = Path.GetFullPath(Environment.ExpandEnvironmentVariables(target), Environment.CurrentDirectory);
                if (!File.Exists(path) && File.Exists(path + ".dll")) path += ".dll";
                if (!File.Exists(path)) throw new FileNotFoundException($"#r: no assembly at {path}", path);
                Reference(path);
            }
        }
    }

    static bool IsAssemblyName(string target) =>
        !target.Contains('/') && !target.Contains('\\') && !target.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);

    static Assembly? TryLoadByName(string name)
    {
        try { return Assembly.Load(new AssemblyName(name)); }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException or ArgumentException) { return null; }
    }

    void Reference(string path)
    {
        if (ExtensionLoader.DeclaresExtension(path))
        {
            var assembly = ExtensionLoader.LoadAssembly(path);
            Session.AddReference(assembly);
            Extensions.Load(assembly, this);
            return;
        }
        Session.AddReferenceFile(path);
    }

    /// <summary>
    /// References a restored package assembly after loading it into the application's load context. A package's
    /// assemblies depend on each other (Plotly.NET, Giraffe.ViewEngine and FSharp.Core): loaded here, each is loaded
    /// once and every other finds that copy, where leaving the loading to the script runtime could load one twice
    /// and fail with MissingMethodException across the two copies.
    /// </summary>
    void ReferenceLoaded(string path)
    {
        if (ExtensionLoader.DeclaresExtension(path)) { Reference(path); return; }
        Assembly assembly;
        try { assembly = ExtensionLoader.LoadAssembly(path); }
        catch (Exception e) when (e is FileLoadException or BadImageFormatException) { Session.AddReferenceFile(path); return; }
        Session.AddReference(assembly);
    }

    /// <summary>Defines a typed session variable: later cells use it by name with its runtime type.</summary>
    internal void SetVariable(string name, object? value)
    {
        if (!SyntaxFacts.IsValidIdentifier(name.TrimStart('@')))
            throw new ArgumentException($"\"{name}\" is not a valid C# variable name", nameof(name));
        var identifier = SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;
        Session.Globals.__vars[name] = value;
        // Most magic calls set a variable that exists with the same type (generation, trainer): assign it in place.
        if (Session.TrySetVariable(name, value)) return;
        var key = SymbolDisplay.FormatLiteral(name, quote: true);
        var type = value is null ? "object" : TypeNames.CSharpName(value.GetType());
        try
        {
            Session.RunCodeAsync($"var {identifier} = ({type})__vars[{key}];", $"setvar{++_internalSubmissions}").GetAwaiter().GetResult();
        }
        catch (CompilationErrorException)
        {
            Session.RunCodeAsync($"var {identifier} = __vars[{key}];", $"setvar{++_internalSubmissions}").GetAwaiter().GetResult();
        }
    }

    [GeneratedRegex("^#r\\s+\"([^\"]+)\"\\s*(//.*)?$")] private static partial Regex ReferenceLine();
}

/// <summary>The session as a running magic sees it.</summary>
sealed class MagicContext(CellExecutor executor, string body, int bodyLine) : IMagicContext
{
    public INotebookHost Host => executor.Host;
    public string CellBody => body;
    public TextWriter Out => Console.Out;
    public object? LastValue { get; private set; }
    public bool LastHasValue { get; private set; }

    public object? GetVariable(string name) => executor.Session.GetVariable(name);

    public void SetVariable(string name, object? value) => executor.SetVariable(name, value);

    /// <summary>
    /// Runs code as a cell (magics included). Running the cell body keeps the cell's line numbers in errors;
    /// the value becomes the cell's result when the magic consumes the body.
    /// </summary>
    public async Task<object?> RunCodeAsync(string code, CancellationToken cancellation = default)
    {
        cancellation.ThrowIfCancellationRequested();
        var (value, hasValue) = await executor.RunCellAsync(code, code == body ? bodyLine : 0).ConfigureAwait(false);
        LastValue = value;
        LastHasValue = hasValue;
        return value;
    }
}
