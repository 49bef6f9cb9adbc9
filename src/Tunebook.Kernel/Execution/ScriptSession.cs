using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;
using Microsoft.CodeAnalysis.Scripting.Hosting;

namespace Tunebook.Kernel.Execution;

/// <summary>
/// The C# session behind a notebook: a chain of Roslyn script submissions, so variables, usings, types
/// and methods of one cell are visible in the next. Not thread-safe: the kernel runs one cell at a time.
/// </summary>
public sealed class ScriptSession
{
    static readonly string[] DefaultUsings =
    [
        "System", "System.IO", "System.Linq", "System.Text", "System.Threading", "System.Threading.Tasks",
        "System.Collections.Generic", "System.Globalization", "Tunebook.Interactive",
    ];

    readonly List<MetadataReference> _references = [];
    readonly HashSet<string> _usings = new(DefaultUsings, StringComparer.Ordinal);
    ScriptState<object?>? _state;
    int _submission;

    public KernelGlobals Globals { get; }

    /// <summary>Loads the assemblies that #r names, and lets the kernel hand Roslyn assemblies it already loaded (extensions).</summary>
    public InteractiveAssemblyLoader Loader { get; } = new();

    public ScriptSession(KernelGlobals globals)
    {
        Globals = globals;
        _references.AddRange(ScriptReferences.Framework());
        AddReference(typeof(Tunebook.Interactive.INotebookHost).Assembly);
        AddReference(typeof(KernelGlobals).Assembly);
    }

    /// <summary>
    /// References a loaded assembly, and the non-framework assemblies it references (so a cell can use
    /// types an extension's API exposes from its dependencies without a #r of each).
    /// </summary>
    public void AddReference(Assembly assembly)
    {
        if (string.IsNullOrEmpty(assembly.Location)) return;
        var reference = ScriptReferences.FromAssembly(assembly);
        if (_references.Contains(reference)) return;
        _references.Add(reference);
        Loader.RegisterDependency(assembly);
        foreach (var name in assembly.GetReferencedAssemblies())
        {
            if (ScriptReferences.IsFrameworkName(name.Name ?? "") || name.Name is null || name.Name.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal)) continue;
            Assembly dependency;
            try { dependency = Assembly.Load(name); }
            catch (Exception) { continue; } // not resolvable here: the cell gets Roslyn's own error if it needs it
            AddReference(dependency);
        }
    }

    /// <summary>References an assembly file that is not loaded yet (#r); Roslyn loads it when a cell first uses it.</summary>
    public void AddReferenceFile(string path)
    {
        var reference = ScriptReferences.FromFile(path);
        if (!_references.Contains(reference)) _references.Add(reference);
    }

    public void AddUsings(IEnumerable<string> namespaces) { foreach (var n in namespaces) _usings.Add(n); }

    ScriptOptions Options(string filePath) => ScriptOptions.Default
        .WithReferences(_references)
        .WithImports(_usings)
        .WithLanguageVersion(LanguageVersion.Preview)
        .WithAllowUnsafe(true)
        .WithEmitDebugInformation(true)
        .WithFilePath(filePath)
        .WithFileEncoding(System.Text.Encoding.UTF8)
        .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(Environment.CurrentDirectory))
        .WithSourceResolver(ScriptSourceResolver.Default.WithBaseDirectory(Environment.CurrentDirectory));

    /// <summary>Compiles the empty first submission, so the first real cell does not pay Roslyn's warm-up.</summary>
    public async Task InitializeAsync()
    {
        var script = CSharpScript.Create<object?>("", Options("init"), typeof(KernelGlobals), Loader);
        _state = await script.RunAsync(Globals).ConfigureAwait(false);
    }

    /// <summary>A submission that continues the session; compile it, then run it with <see cref="RunAsync"/>.</summary>
    public Script<object?> Prepare(string code, string? name = null)
    {
        if (_state is null) throw new InvalidOperationException("The session is not initialized.");
        return _state.Script.ContinueWith<object?>(code, Options(name ?? $"cell{++_submission}"));
    }

    /// <summary>The error diagnostics of a prepared submission (empty when it compiles).</summary>
    public static ImmutableArray<Diagnostic> Errors(Script script) =>
        script.Compile().Where(d => d.Severity == DiagnosticSeverity.Error).ToImmutableArray();

    /// <summary>
    /// Runs a compiled submission. The session moves forward even when the cell throws, so variables the
    /// cell assigned before the exception stay available, as in IPython.
    /// </summary>
    public async Task<SubmissionResult> RunAsync(Script<object?> script)
    {
        bool hasValue = HasValue(script.GetCompilation());
        var state = await script.RunFromAsync(_state!, _ => true).ConfigureAwait(false);
        _state = state;
        return new SubmissionResult(state.ReturnValue, hasValue && state.Exception is null, state.Exception);
    }

    /// <summary>
    /// True when the submission ends in an expression without a semicolon whose type is not void: that
    /// value is the cell's result (execute_result).
    /// </summary>
    static bool HasValue(Compilation compilation)
    {
        var tree = compilation.SyntaxTrees.Last();
        var last = tree.GetCompilationUnitRoot().Members.LastOrDefault();
        if (last is not Microsoft.CodeAnalysis.CSharp.Syntax.GlobalStatementSyntax { Statement: Microsoft.CodeAnalysis.CSharp.Syntax.ExpressionStatementSyntax statement }
            || !statement.SemicolonToken.IsMissing) return false;
        var type = compilation.GetSemanticModel(tree).GetTypeInfo(statement.Expression).Type;
        return type is not null && type.SpecialType != SpecialType.System_Void;
    }

    /// <summary>
    /// Compiles and runs code in the session; compile errors throw <see cref="CompilationErrorException"/>.
    /// Loops and awaits are rewritten to observe an interrupt (<see cref="CellGuardRewriter"/>); the errors
    /// reported are those of the code as written, so their positions are the user's.
    /// </summary>
    public async Task<SubmissionResult> RunCodeAsync(string code, string? name = null)
    {
        name ??= $"cell{++_submission}";
        var script = Prepare(code, name);
        var errors = Errors(script);
        if (!errors.IsEmpty) throw new CompilationErrorException(FormatDiagnostic(errors[0]), errors);
        return await RunAsync(Guarded(script, name)).ConfigureAwait(false);
    }

    /// <summary>
    /// The submission with its loops and awaits guarded, or the submission itself when there is nothing
    /// to guard, or (a case the rewriter should never produce) when the guarded text does not compile.
    /// </summary>
    Script<object?> Guarded(Script<object?> script, string name)
    {
        var compilation = script.GetCompilation();
        var tree = compilation.SyntaxTrees.Last();
        if (!CellGuardRewriter.Applies(tree.GetRoot())) return script;
        var guarded = Prepare(CellGuardRewriter.Rewrite(tree, compilation.GetSemanticModel(tree)), name);
        return Errors(guarded).IsEmpty ? guarded : script;
    }

    /// <summary>"(line,col): error CSxxxx: message" with 1-based positions relative to the submission.</summary>
    public static string FormatDiagnostic(Diagnostic d)
    {
        var span = d.Location.GetLineSpan();
        var p = span.StartLinePosition;
        return d.Location.IsInSource ? $"({p.Line + 1},{p.Character + 1}): error {d.Id}: {d.GetMessage()}" : $"error {d.Id}: {d.GetMessage()}";
    }

    /// <summary>Every variable the session has defined, the latest definition of each name, in definition order.</summary>
    public IReadOnlyList<ScriptVariable> Variables
    {
        get
        {
            if (_state is null) return [];
            var latest = new Dictionary<string, ScriptVariable>(StringComparer.Ordinal);
            var order = new List<string>();
            foreach (var v in _state.Variables)
            {
                if (v.Name.StartsWith('<') || v.Name.StartsWith("__", StringComparison.Ordinal)) continue;
                if (!latest.ContainsKey(v.Name)) order.Add(v.Name);
                latest[v.Name] = v;
            }
            return order.Select(n => latest[n]).ToList();
        }
    }

    public object? GetVariable(string name) => _state?.GetVariable(name)?.Value;

    /// <summary>
    /// Assigns <paramref name="value"/> to the latest variable named <paramref name="name"/> when it is declared with exactly
    /// the value's runtime type (object for null); false when there is no such variable. Nothing is compiled: every
    /// submission stays in memory for the session's life, so redefining a variable per magic call would grow it without end.
    /// </summary>
    public bool TrySetVariable(string name, object? value)
    {
        var variable = _state?.GetVariable(name);
        if (variable is null || variable.IsReadOnly || variable.Type != (value?.GetType() ?? typeof(object))) return false;
        variable.Value = value;
        return true;
    }

    /// <summary>
    /// A semantic model of <paramref name="code"/> as if it were the next cell, for completion and
    /// inspection. Nothing runs.
    /// </summary>
    public (SemanticModel Model, SyntaxTree Tree) Analyze(string code)
    {
        var script = _state!.Script.ContinueWith<object?>(code, Options("analysis"));
        var compilation = script.GetCompilation();
        var tree = compilation.SyntaxTrees.Last();
        return (compilation.GetSemanticModel(tree), tree);
    }
}

/// <summary>What a submission produced: its last expression's value (when it has one) or its exception.</summary>
public sealed record SubmissionResult(object? Value, bool HasValue, Exception? Exception);
