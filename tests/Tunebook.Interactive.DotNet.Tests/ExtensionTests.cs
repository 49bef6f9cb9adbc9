using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;
using Tunebook.Notebook.Charts;
using Tunebook.Tuning.Training;

namespace Tunebook.Interactive.DotNet.Tests;

/// <summary>The extension in a real .NET Interactive C# kernel: the magics train the starter model, and the displays arrive as .NET Interactive events.</summary>
[Collection(KernelCollection.Name)]
public class ExtensionTests(KernelFixture kernel)
{
    static IEnumerable<FormattedValue> Displayed(IReadOnlyList<KernelEvent> events) =>
        events.OfType<DisplayEvent>().SelectMany(e => e.FormattedValues);

    [Fact]
    public async Task The_magics_fine_tune_the_starter_model_and_the_loss_falls()
    {
        var events = await kernel.Run("#!model load starter");
        Events.Succeeded(events);
        var card = Assert.Single(events.OfType<DisplayedValueProduced>());
        Assert.Contains("text/html", card.FormattedValues.Select(v => v.MimeType));
        Assert.Contains("parameters", card.FormattedValues.Single(v => v.MimeType == "text/html").Value);

        Events.Succeeded(await kernel.Run("#!data load datasets/puddle/train.jsonl --val 0.1 --max-length 128"));
        Events.Succeeded(await kernel.Run("#!lora --rank 8 --alpha 16"));

        events = await kernel.Run("#!train --steps 12 --lr 2e-3 --batch 8 --eval-every 6 --no-record");
        Events.Succeeded(events);
        // The live view is one display, redrawn in place: updates carry the display id of the first.
        var views = events.OfType<DisplayedValueProduced>().ToList();
        Assert.NotEmpty(views);
        var updates = events.OfType<DisplayedValueUpdated>().ToList();
        Assert.NotEmpty(updates);
        Assert.All(updates, u => Assert.Contains(u.ValueId, views.Select(v => v.ValueId)));
        Assert.Contains("application/vnd.plotly.v1+json", Displayed(events).Select(v => v.MimeType));

        // The magic's `trainer` is a variable of the C# kernel, typed: the next cell reads it.
        Assert.True(kernel.CSharp.TryGetValue<Trainer>("trainer", out var trainer));
        Assert.Equal(12, trainer.GlobalStep);
        var losses = trainer.Evaluations.Select(e => e.Loss).ToList();
        Assert.True(losses.Count >= 2, $"expected two evaluations, got {losses.Count}");
        Assert.True(losses[^1] < losses[0], $"validation loss did not fall: {string.Join(", ", losses)}");
        events = await kernel.Run("trainer.GlobalStep");
        Assert.Equal(12, Assert.Single(events.OfType<ReturnValueProduced>()).Value);

        events = await kernel.Run("#!generate \"How do I list my zones?\" --max-tokens 8");
        Events.Succeeded(events);
        Assert.NotEmpty(events.OfType<DisplayEvent>());
    }

    [Fact]
    public async Task An_interrupt_stops_the_run_at_a_step_boundary()
    {
        Events.Succeeded(await kernel.Run("#!model load starter"));
        Events.Succeeded(await kernel.Run("#!data load datasets/puddle/train.jsonl --max-length 64"));
        Events.Succeeded(await kernel.Run("#!lora --rank 4"));
        var run = kernel.Run("#!train --steps 500 --batch 2 --no-record");
        // Wait for the run to be under way, then interrupt it as a front end does (.NET Interactive's Cancel).
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (!(kernel.CSharp.TryGetValue<Trainer>("trainer", out var started) && started.GlobalStep >= 2))
        {
            Assert.True(DateTime.UtcNow < deadline, "the run did not start");
            await Task.Delay(50);
        }
        await kernel.Kernel.SendAsync(new Microsoft.DotNet.Interactive.Commands.Cancel());
        var events = await run;
        Assert.NotEmpty(events.OfType<CommandFailed>());
        Assert.True(kernel.CSharp.TryGetValue<Trainer>("trainer", out var trainer));
        // .NET Interactive ends the cancelled command at once; the run stops at its next step boundary, and the
        // next magic waits for that. Then the run continues one step at a time from where it stopped.
        Events.Succeeded(await kernel.Run("#!train step 1"));
        int stoppedAt = trainer.GlobalStep;
        Assert.InRange(stoppedAt, 3, 499);
        Events.Succeeded(await kernel.Run("#!train step 1"));
        Assert.Equal(stoppedAt + 1, trainer.GlobalStep);
    }

    [Fact]
    public async Task A_chart_a_cell_returns_is_its_Plotly_JSON_and_SVG()
    {
        var events = await kernel.Run("Figure.Create().AddLine(\"loss\", new[] { 1, 2, 3 }, new[] { 3.0, 2.0, 1.5 }).WithTitle(\"t\")");
        Events.Succeeded(events);
        var value = Assert.Single(events.OfType<ReturnValueProduced>());
        var figure = Assert.IsType<Figure>(value.Value);
        var formatted = value.FormattedValues.ToDictionary(v => v.MimeType, v => v.Value);
        Assert.Equal(figure.ToPlotlyJson(), formatted["application/vnd.plotly.v1+json"]);
        Assert.StartsWith("<svg", formatted["image/svg+xml"]);
        Assert.Equal(figure.ToString(), formatted["text/plain"]);
    }

    [Fact]
    public void Every_display_keeps_every_representation_of_its_bundle()
    {
        var bundle = new MimeBundle("plain").With("text/html", "<b>x</b>").With("image/svg+xml", "<svg/>");
        var values = DotNetInteractiveHost.FormattedValues(bundle).ToDictionary(v => v.MimeType, v => v.Value);
        Assert.Equal(3, values.Count);
        Assert.Equal(("plain", "<b>x</b>", "<svg/>"), (values["text/plain"], values["text/html"], values["image/svg+xml"]));
    }

    [Fact]
    public void Html_falls_back_to_the_svg_then_to_escaped_text()
    {
        Assert.Equal("<svg/>", FormatterBridge.Representation(new MimeBundle("a<b").With("image/svg+xml", "<svg/>"), "text/html"));
        Assert.Equal("<pre>a&lt;b</pre>", FormatterBridge.Representation(new MimeBundle("a<b"), "text/html"));
    }

    [Fact]
    public void Another_dotnet_interactive_version_is_refused_naming_the_supported_one()
    {
        SupportedVersion.Check(typeof(Microsoft.DotNet.Interactive.Kernel).Assembly);
        var e = Assert.Throws<NotSupportedException>(() => SupportedVersion.Check(typeof(Xunit.Assert).Assembly));
        Assert.Contains($"supports .NET Interactive {SupportedVersion.Version}", e.Message);
        Assert.Contains(SupportedVersion.ToolVersion, e.Message);
    }
}
