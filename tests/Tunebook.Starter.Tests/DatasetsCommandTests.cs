using System.Diagnostics;
using Tunebook.Starter;

namespace Tunebook.Starter.Tests;

/// <summary>./tunebook datasets generate, run as a process: it writes what the committed datasets hold, --check
/// names drifted files, --corpus writes the starter corpus, and a missing spec is a clear error.</summary>
public class DatasetsCommandTests
{
    static (int Code, string Stdout, string Stderr) Tunebook(params string[] args)
    {
        var dll = Path.Combine(StarterTestSupport.RepoRoot, "src/Tunebook.Cli/bin/Release/net10.0/tunebook.dll");
        Assert.True(File.Exists(dll), $"build the CLI first (make build): {dll} is missing");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }

    /// <summary>A scratch repository root holding only datasets/puddle/spec.yaml.</summary>
    static DirectoryInfo ScratchRoot()
    {
        var root = Directory.CreateTempSubdirectory("tunebook-datasets-");
        Directory.CreateDirectory(Path.Combine(root.FullName, "datasets", "puddle"));
        File.Copy(StarterTestSupport.Datasets("puddle", "spec.yaml"), Path.Combine(root.FullName, "datasets", "puddle", "spec.yaml"));
        return root;
    }

    [Fact]
    public void Generate_reproduces_the_committed_puddle_files_and_check_names_a_drifted_one()
    {
        var root = ScratchRoot();
        try
        {
            var before = Tunebook("datasets", "generate", "--root", root.FullName, "--check");
            Assert.Equal(1, before.Code);
            Assert.Contains("differs: datasets/puddle/train.jsonl", before.Stdout);

            var run = Tunebook("datasets", "generate", "--root", root.FullName);
            Assert.True(run.Code == 0, run.Stderr);
            var expected = DomainDataset.Build(CliSpec.Load(StarterTestSupport.Datasets("puddle", "spec.yaml"))).RenderFiles().Keys.ToList();
            Assert.Equal(6, expected.Count);
            foreach (var name in expected)
            {
                Assert.Contains($"wrote {Path.Combine("datasets", "puddle", name)}", run.Stdout);
                Assert.Equal(File.ReadAllText(StarterTestSupport.Datasets("puddle", name)), File.ReadAllText(Path.Combine(root.FullName, "datasets", "puddle", name)));
            }

            Assert.Equal(0, Tunebook("datasets", "generate", "--root", root.FullName, "--check").Code);
            File.AppendAllText(Path.Combine(root.FullName, "datasets", "puddle", "docs.txt"), "edited by hand\n");
            var drifted = Tunebook("datasets", "generate", "--root", root.FullName, "--check");
            Assert.Equal(1, drifted.Code);
            Assert.Equal("differs: datasets/puddle/docs.txt", drifted.Stdout.Trim());
        }
        finally { root.Delete(recursive: true); }
    }

    [Fact]
    public void Corpus_option_writes_the_starter_corpus()
    {
        var root = ScratchRoot();
        try
        {
            var corpus = Path.Combine(root.FullName, "corpus.txt");
            var run = Tunebook("datasets", "generate", "--root", root.FullName, "--corpus", corpus, "--seed", "3", "--corpus-chars", "20000");
            Assert.True(run.Code == 0, run.Stderr);
            Assert.Equal(StarterCorpus.Generate(seed: 3, sizeInChars: 20_000), File.ReadAllText(corpus));
        }
        finally { root.Delete(recursive: true); }
    }

    [Fact]
    public void A_missing_spec_is_an_error_naming_the_file()
    {
        var root = Directory.CreateTempSubdirectory("tunebook-datasets-");
        try
        {
            var run = Tunebook("datasets", "generate", "--root", root.FullName);
            Assert.Equal(1, run.Code);
            Assert.StartsWith("datasets generate: ", run.Stderr);
            Assert.Contains(Path.Combine("datasets", "puddle", "spec.yaml"), run.Stderr);
        }
        finally { root.Delete(recursive: true); }
    }
}
