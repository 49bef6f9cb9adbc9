namespace Tunebook.Starter;

/// <summary>
/// Entry points for the built-in datasets under datasets/: regenerate them after editing a spec, or check that
/// the committed files are what the generators produce now. `./tunebook datasets generate` calls
/// <see cref="GenerateAll"/> (with --check, <see cref="FindDrift"/>).
/// </summary>
public static class StarterDatasets
{
    /// <summary>The domain tools, by folder under datasets/. Each folder holds a spec.yaml.</summary>
    public static IReadOnlyList<string> DomainTools { get; } = ["puddle"];

    /// <summary>Regenerates every generated file under <paramref name="repoRoot"/>/datasets; returns the paths written.</summary>
    public static IReadOnlyList<string> GenerateAll(string repoRoot) =>
        DomainTools.SelectMany(t => DomainDataset.Generate(SpecPath(repoRoot, t))).ToList();

    /// <summary>The generated files whose committed content differs from what the generators produce now
    /// (missing files included), as paths relative to the repository root. Empty when nothing drifted.</summary>
    public static IReadOnlyList<string> FindDrift(string repoRoot)
    {
        var drift = new List<string>();
        foreach (var tool in DomainTools)
        {
            var dataset = DomainDataset.Build(CliSpec.Load(SpecPath(repoRoot, tool)));
            foreach (var (name, expected) in dataset.RenderFiles())
            {
                var path = Path.Combine(repoRoot, "datasets", tool, name);
                if (!File.Exists(path) || File.ReadAllText(path) != expected) drift.Add($"datasets/{tool}/{name}");
            }
        }
        return drift;
    }

    /// <summary>datasets/&lt;tool&gt;/spec.yaml under <paramref name="repoRoot"/>.</summary>
    public static string SpecPath(string repoRoot, string tool) => Path.Combine(repoRoot, "datasets", tool, "spec.yaml");
}
