using Tunebook.Notebook.LlamaCpp;

namespace Tunebook.Notebook.Tests;

/// <summary>
/// Tune.CompareWithLlamaCpp: the held-out questions answered by llama.cpp from an export beside Tunebook's
/// answers. A float32 export must give Tunebook's greedy answers word for word; a missing file or installation
/// gets an error that says what to do.
/// </summary>
public class LlamaCppComparisonTests
{
    sealed class LlamaCppFactAttribute : FactAttribute
    {
        public LlamaCppFactAttribute()
        {
            if (!LlamaCppRunner.Available) Skip = "node-llama-cpp is not installed in tests/reference (run scripts/setup-reference.sh, as make test does)";
        }
    }

    [LlamaCppFact]
    public void A_float32_export_answers_the_held_out_questions_as_Tunebook_does()
    {
        var model = Tune.LoadModel("starter");
        var dir = Path.Combine(Path.GetTempPath(), "tunebook-notebook-tests", Guid.NewGuid().ToString("N"));
        var gguf = Tune.SaveGguf(model, Path.Combine(dir, "starter.gguf"), "f32").Path;
        var (questions, _) = Tune.HeldOut("datasets/puddle/heldout.jsonl", count: 3);

        var comparison = Tune.CompareWithLlamaCpp(model, gguf, questions, maxNewTokens: 16);

        Assert.Equal(questions, comparison.Rows.Select(r => r.Question));
        Assert.All(comparison.Rows, r => Assert.False(string.IsNullOrWhiteSpace(r.LlamaCpp)));
        Assert.All(comparison.Rows, r => Assert.Equal(r.Tunebook, r.LlamaCpp));
        Assert.Equal(3, comparison.Agreeing);
        Assert.Contains("gives Tunebook's answer to 3 of 3 questions", comparison.ToString());
        Assert.Contains("✓ same", comparison.ToMimeBundle()["text/html"]);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var model = Tune.LoadModel("starter");
        var missing = Path.Combine(Path.GetTempPath(), "tunebook-notebook-tests", "no-such.gguf");
        var error = Record.Exception(() => Tune.CompareWithLlamaCpp(model, missing, ["How do I list my zones?"], maxNewTokens: 4));
        Assert.NotNull(error);
        Assert.Contains(LlamaCppRunner.Available ? "no-such.gguf" : "setup-reference.sh", error.Message);
    }
}
