using System.CommandLine;
using Tunebook.Starter;
using Tunebook.Starter.Pretraining;

namespace Tunebook.Cli;

/// <summary>
/// ./tunebook datasets generate: rewrites the generated files under datasets/ from their specs
/// (<see cref="StarterDatasets.GenerateAll"/>), or with --check only lists the files that drifted; --corpus
/// also writes the starter model's pretraining corpus, which is not committed.
/// </summary>
static class DatasetsCommand
{
    public static Command Create()
    {
        // The corpus defaults are those ./tunebook pretrain trains the starter model on.
        var pretrain = new PretrainOptions { OutputFolder = "datasets/starter", ConfigPath = "datasets/starter/config.json" };
        var root = new Option<string>("--root") { Description = "Repository root that holds datasets/", DefaultValueFactory = _ => "." };
        var check = new Option<bool>("--check") { Description = "Write nothing: list the generated files that differ from a fresh generation, exit 1 if any do" };
        var corpus = new Option<string?>("--corpus") { Description = "Also write the starter model's pretraining corpus to this file" };
        var seed = new Option<int>("--seed") { Description = "Seed of the corpus", DefaultValueFactory = _ => pretrain.Seed };
        var chars = new Option<int>("--corpus-chars") { Description = "Size of the corpus in characters", DefaultValueFactory = _ => pretrain.CorpusChars };
        var generate = new Command("generate", "Regenerate the built-in datasets (datasets/puddle) from their spec.yaml, and optionally the starter corpus.")
        {
            root, check, corpus, seed, chars,
        };
        generate.SetAction(parse =>
        {
            var repoRoot = parse.GetValue(root)!;
            try
            {
                if (parse.GetValue(check))
                {
                    var drift = StarterDatasets.FindDrift(repoRoot);
                    foreach (var path in drift) Console.WriteLine($"differs: {path}");
                    if (drift.Count > 0) Console.Error.WriteLine("datasets generate: run ./tunebook datasets generate and commit the result");
                    return drift.Count == 0 ? 0 : 1;
                }
                foreach (var path in StarterDatasets.GenerateAll(repoRoot))
                    Console.WriteLine($"wrote {Path.GetRelativePath(repoRoot, path)}");
                if (parse.GetValue(corpus) is { } corpusPath)
                {
                    int size = parse.GetValue(chars);
                    StarterCorpus.Write(corpusPath, parse.GetValue(seed), size);
                    Console.WriteLine($"wrote {corpusPath} (starter corpus, {size:N0} characters, seed {parse.GetValue(seed)})");
                }
                return 0;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"datasets generate: {e.Message}");
                return 1;
            }
        });
        return new Command("datasets", "The project's generated datasets.") { generate };
    }
}
