namespace Tunebook.Tuning;

/// <summary>
/// Finds files of this repository (datasets/puddle/train.jsonl, the starter model in datasets/starter) from
/// wherever a notebook, the kernel or the CLI runs, and resolves a model argument — a Hugging Face model folder
/// or "starter" — to its folder. One lookup for the notebook API and <c>./tunebook train</c>.
/// </summary>
public static class RepositoryPaths
{
    /// <summary>The name that stands for the repository's small pretrained model.</summary>
    public const string Starter = "starter";

    /// <summary>
    /// <paramref name="relative"/> inside this repository, searched above $TUNEBOOK_HOME, the current folder and
    /// the running program's folder, in that order; null when none holds it.
    /// </summary>
    public static string? Find(string relative)
    {
        ArgumentNullException.ThrowIfNull(relative);
        foreach (var start in new[] { Environment.GetEnvironmentVariable("TUNEBOOK_HOME"), Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, relative);
                if (Directory.Exists(candidate) || File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    /// <summary>
    /// The folder of a model argument: "starter" → datasets/starter of this repository; anything else is a
    /// folder, relative to <paramref name="baseFolder"/> (default: the current folder). The folder must hold a
    /// config.json and *.safetensors weights; the error says which is missing.
    /// </summary>
    public static string ModelFolder(string pathOrStarter, string? baseFolder = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrStarter);
        bool starter = pathOrStarter.Equals(Starter, StringComparison.OrdinalIgnoreCase);
        string folder = starter
            ? Find(Path.Combine("datasets", "starter")) ?? throw new DirectoryNotFoundException("the starter model (datasets/starter) was not found above $TUNEBOOK_HOME, the current folder or the program's folder (run from the Tunebook checkout)")
            : Path.GetFullPath(pathOrStarter, baseFolder ?? Directory.GetCurrentDirectory());
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"model folder not found: {folder} (expected a Hugging Face model folder or \"starter\")");
        if (!File.Exists(Path.Combine(folder, "config.json"))) throw new FileNotFoundException($"{folder} has no config.json: expected a Hugging Face model folder");
        if (!Directory.EnumerateFiles(folder, "*.safetensors").Any())
            throw new FileNotFoundException(starter
                ? $"{folder} has no model.safetensors yet: build the starter model first (./tunebook pretrain; see datasets/starter/README.md)"
                : $"{folder} has no *.safetensors weights");
        return folder;
    }
}
