using System.Text.RegularExpressions;
using Tunebook.Notebook.Displays;

namespace Tunebook.Notebook.Tests;

/// <summary>Displays show paths relative to the notebook's folder or from ~, and the before/after table wraps at word boundaries.</summary>
[Collection(HostCollection.Name)]
public class PortableOutputTests
{
    const string Notebooks = "/srv/checkout/notebooks";
    const string Home = "/home/ada";

    [Theory]
    [InlineData("/srv/checkout/notebooks/out/adapter", "out/adapter")]
    [InlineData("/srv/checkout/datasets/puddle/train.jsonl", "../datasets/puddle/train.jsonl")]
    [InlineData("/srv/checkout/notebooks", "./")]
    [InlineData("/home/ada/models/llama", "~/models/llama")]
    [InlineData("/home/ada", "~")]
    [InlineData("/opt/models/llama", "/opt/models/llama")]   // neither near the notebook nor under ~: the path is all there is
    [InlineData("datasets/puddle/train.jsonl", "datasets/puddle/train.jsonl")]
    public void A_path_is_shown_relative_to_the_notebook_or_from_home(string path, string shown) =>
        Assert.Equal(shown, DisplayPath.Of(path, Notebooks, Home));

    [Fact]
    public void A_notebook_under_home_shows_nearby_paths_relative_and_far_ones_from_home()
    {
        Assert.Equal("../datasets/x.jsonl", DisplayPath.Of("/home/ada/work/tunebook/datasets/x.jsonl", "/home/ada/work/tunebook/notebooks", Home));
        Assert.Equal("~/other/model", DisplayPath.Of("/home/ada/other/model", "/home/ada/work/tunebook/notebooks/deep", Home));
    }

    [Fact]
    public void Absolute_paths_inside_report_text_are_rewritten_and_nothing_else()
    {
        var text = "/srv/checkout/datasets/puddle/train.jsonl:12: no answer; see https://example.org/a/b and datasets/x, /home/ada/m, (/srv/checkout/notebooks/out)";
        Assert.Equal("../datasets/puddle/train.jsonl:12: no answer; see https://example.org/a/b and datasets/x, ~/m, (out)",
            DisplayPath.InText(text, Notebooks, Home));
    }

    [Fact]
    public void The_model_card_and_save_messages_carry_no_absolute_path_of_this_machine()
    {
        // The current directory stands for the notebook's folder; the card's source is a file in it.
        var source = Path.Combine(Directory.GetCurrentDirectory(), "model", "model.safetensors");
        using var model = TinyModel.Create();
        var card = new ModelCard(model, source);
        var bundle = card.ToMimeBundle();
        foreach (var text in new[] { card.ToString(), bundle["text/html"]! })
        {
            Assert.DoesNotContain(Directory.GetCurrentDirectory(), text);
            Assert.Contains(Path.Combine("model", "model.safetensors"), text);
        }
    }

    [Fact]
    public void The_before_after_table_wraps_at_word_boundaries()
    {
        var c = new Comparison([new ComparisonRow("Which zone is Hilltop in?", "Hilltop is in zone s?", "Run `puddle zone show hilltop`.")]);
        var html = c.ToMimeBundle()["text/html"]!;
        var pres = Regex.Matches(html, "<pre style=\"([^\"]*)\">").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(3, pres.Count);
        foreach (var style in pres)
        {
            // Inline, so it overrides Jupyter Notebook's "div.output_area pre { word-break: break-all }".
            Assert.Contains("word-break:normal", style);
            Assert.Contains("overflow-wrap:break-word", style);
            Assert.Contains("white-space:pre-wrap", style);
            Assert.DoesNotContain("break-all", style);
        }
        Assert.Contains("Hilltop is in zone s?", html);
    }
}
