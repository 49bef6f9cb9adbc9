using System.Reflection;

namespace Tunebook.Tuning.Tests.Starter;

/// <summary>Paths the starter-dataset tests need, from the RepoRoot assembly metadata the build stamps in.</summary>
static class StarterTestSupport
{
    public static string RepoRoot { get; } =
        typeof(StarterTestSupport).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .First(a => a.Key == "RepoRoot").Value!.TrimEnd('/');

    public static string Datasets(params string[] parts) => Path.Combine([RepoRoot, "datasets", .. parts]);
}
