using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Tunebook.Kernel.Tests;

/// <summary>Compiles small assemblies at test time, for #r and kernel-extension tests.</summary>
static class TestAssemblies
{
    public static string Compile(string directory, string assemblyName, string source)
    {
        var framework = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.") || Path.GetFileName(p) is "netstandard.dll" or "mscorlib.dll")
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p));
        var interactive = MetadataReference.CreateFromFile(typeof(Tunebook.Interactive.INotebookHost).Assembly.Location);
        var compilation = CSharpCompilation.Create(assemblyName,
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))],
            framework.Append(interactive),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var path = Path.Combine(directory, assemblyName + ".dll");
        var result = compilation.Emit(path);
        if (!result.Success)
            throw new InvalidOperationException(string.Join("\n", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        return path;
    }

    public const string GreetingExtension = """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading.Tasks;
        using Tunebook.Interactive;

        [assembly: KernelExtension(typeof(Greetings.GreetingExtension))]

        namespace Greetings;

        public sealed record Greeting(string Text, int Count);

        public static class Greeter { public static string Hello(string name) => "hello " + name; }

        public sealed class GreetOptions
        {
            [Argument(0, "name", Help = "Who to greet")] public string Name { get; set; } = "";
            [Option("--shout", Help = "Greet in capitals")] public bool Shout { get; set; }
            [Option("--times", Aliases = ["-n"], Help = "How many times")] public int Times { get; set; } = 1;
        }

        public sealed class GreetMagic : MagicCommand<GreetOptions>
        {
            public override string Name => "greet";
            public override string Summary => "Greet someone and keep the greeting in a variable.";
            protected override Task RunAsync(GreetOptions o, IMagicContext context)
            {
                var one = o.Shout ? "HELLO " + o.Name.ToUpperInvariant() : "hello " + o.Name;
                var greeting = new Greeting(string.Join(" ", Enumerable.Repeat(one, o.Times)), o.Times);
                context.SetVariable("greeting", greeting);
                context.SetVariable("greetingsByName", new Dictionary<string, List<Greeting>> { [o.Name] = [greeting] });
                context.Out.WriteLine("greeted " + o.Name);
                return Task.CompletedTask;
            }
        }

        public sealed class GreetingExtension : IKernelExtension
        {
            public void Load(IExtensionContext context)
            {
                context.AddMagic(new GreetMagic());
                context.AddUsings("Greetings");
            }
        }
        """;

    public const string PlainLibrary = """
        namespace Plain;
        public static class Adder { public static int Add(int a, int b) => a + b; }
        """;
}
