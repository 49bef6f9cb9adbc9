using Tunebook.Tuning.Config;

namespace Tunebook.Tuning.Tests;

/// <summary>One lookup of model folders for the notebook API and ./tunebook train.</summary>
public class RepositoryPathsTests
{
    [Fact]
    public void Repository_files_are_found_from_the_test_folder()
    {
        var found = RepositoryPaths.Find("datasets/puddle/train.jsonl");
        Assert.NotNull(found);
        Assert.Equal(Path.GetFullPath(Path.Combine(Tiny.RepoRoot, "datasets/puddle/train.jsonl")), Path.GetFullPath(found!));
        Assert.Null(RepositoryPaths.Find("datasets/no-such-file.jsonl"));
    }

    [Fact]
    public void A_model_folder_must_hold_a_config_and_weights_and_the_error_says_which_is_missing()
    {
        var folder = Tiny.TempDir();
        Assert.Throws<DirectoryNotFoundException>(() => RepositoryPaths.ModelFolder(Path.Combine(folder, "nope")));
        Assert.Contains("config.json", Assert.Throws<FileNotFoundException>(() => RepositoryPaths.ModelFolder(folder)).Message);
        File.WriteAllText(Path.Combine(folder, "config.json"), "{}");
        Assert.Contains("safetensors", Assert.Throws<FileNotFoundException>(() => RepositoryPaths.ModelFolder(folder)).Message);
        File.WriteAllText(Path.Combine(folder, "model.safetensors"), "");
        Assert.Equal(folder, RepositoryPaths.ModelFolder(folder));
    }

    [Fact]
    public void A_training_config_names_its_file_and_the_model_key_when_the_folder_is_wrong()
    {
        var dir = Tiny.TempDir();
        var path = Path.Combine(dir, "run.yaml");
        File.WriteAllText(path, "model: missing-model\noutput: out\ndata:\n  file: train.jsonl\ntrainer:\n  steps: 1\n");
        var e = Assert.Throws<TrainConfigException>(() => TrainRun.ModelFolder(TrainConfig.Load(path)));
        Assert.StartsWith($"{path}: model: ", e.Message);
        Assert.Contains(Path.Combine(dir, "missing-model"), e.Message);
    }
}
