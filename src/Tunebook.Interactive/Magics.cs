namespace Tunebook.Interactive;

// A magic command is a cell line "#!name args..." that runs one C# call. The C# API is the product;
// the magic is its shortcut, so every magic's work is a call a user could also write in a cell.
//
// A magic declares its options as a plain class whose properties carry [Argument] / [Option]:
//
//     public sealed class TrainOptions
//     {
//         [Argument(0, "action", Help = "step | continue | stop", Required = false)] public string? Action { get; set; }
//         [Option("--steps", Help = "Optimizer steps to run")] public int? Steps { get; set; }
//         [Option("--lr", Help = "Peak learning rate")] public double LearningRate { get; set; } = 2e-4;
//     }
//
// Property types: string, bool (a flag), int, long, double, float, enums (matched case-insensitively),
// their nullable forms, and string[] (repeatable or comma-separated). The parser (MagicParser) validates
// every value and, on a bad one, throws MagicUsageException with the usage text.

/// <summary>A positional argument of a magic command.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ArgumentAttribute(int position, string name) : Attribute
{
    public int Position { get; } = position;
    public string Name { get; } = name;
    public string Help { get; init; } = "";
    public bool Required { get; init; } = true;
    /// <summary>When set, the value must be one of these (compared case-insensitively).</summary>
    public string[]? Choices { get; init; }
}

/// <summary>A named option ("--rank 8", "--rank=8", or a bare "--flag" for bool).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionAttribute(string name) : Attribute
{
    public string Name { get; } = name;
    public string[] Aliases { get; init; } = [];
    public string Help { get; init; } = "";
    public bool Required { get; init; }
    public string[]? Choices { get; init; }
}

/// <summary>A bad magic invocation. The message says what was wrong and includes the command's usage.</summary>
public sealed class MagicUsageException(string message) : Exception(message);

/// <summary>What a running magic can reach in the session that invoked it.</summary>
public interface IMagicContext
{
    INotebookHost Host { get; }

    /// <summary>The rest of the cell after the magic line(s): the code a magic such as #!time wraps.</summary>
    string CellBody { get; }

    /// <summary>Text output of the cell (becomes a stream message).</summary>
    TextWriter Out { get; }

    /// <summary>Reads a session variable; null when it does not exist.</summary>
    object? GetVariable(string name);

    /// <summary>Defines or replaces a session variable that later cells use by name, with its runtime type.</summary>
    void SetVariable(string name, object? value);

    /// <summary>Runs C# code in the session (as if it were a cell) and returns its last expression's value.</summary>
    Task<object?> RunCodeAsync(string code, CancellationToken cancellation = default);
}

/// <summary>Base of all magic commands. Prefer <see cref="MagicCommand{TOptions}"/>.</summary>
public abstract class MagicCommand
{
    /// <summary>The name after "#!" (for example "train").</summary>
    public abstract string Name { get; }

    /// <summary>One line for #!help.</summary>
    public abstract string Summary { get; }

    /// <summary>Example invocations shown by --help.</summary>
    public virtual IReadOnlyList<string> Examples => [];

    /// <summary>The type whose [Argument]/[Option] properties define the command line.</summary>
    public abstract Type OptionsType { get; }

    /// <summary>
    /// True when the magic takes over the rest of the cell (<see cref="IMagicContext.CellBody"/>), as #!time
    /// does: the host then does not run the body itself. False (the default): the body runs as C# after the magic.
    /// </summary>
    public virtual bool ConsumesCellBody => false;

    /// <summary>Runs with already-parsed options.</summary>
    public abstract Task RunAsync(object options, IMagicContext context);
}

/// <summary>A magic command with typed options.</summary>
public abstract class MagicCommand<TOptions> : MagicCommand where TOptions : new()
{
    public sealed override Type OptionsType => typeof(TOptions);
    public sealed override Task RunAsync(object options, IMagicContext context) => RunAsync((TOptions)options, context);
    protected abstract Task RunAsync(TOptions options, IMagicContext context);
}

/// <summary>Implemented by an assembly that adds magics, formatters or default usings to the kernel.</summary>
public interface IKernelExtension
{
    void Load(IExtensionContext context);
}

/// <summary>Marks an assembly as a kernel extension; the kernel loads such assemblies from its own folder at start and on #r.</summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class KernelExtensionAttribute(Type extensionType) : Attribute
{
    public Type ExtensionType { get; } = extensionType;
}

public interface IExtensionContext
{
    void AddMagic(MagicCommand magic);
    /// <summary>Namespaces every cell imports (for example "Tunebook.Notebook").</summary>
    void AddUsings(params string[] namespaces);
    /// <summary>Assemblies every cell references (the extension's own is added automatically).</summary>
    void AddReferences(params System.Reflection.Assembly[] assemblies);
}
