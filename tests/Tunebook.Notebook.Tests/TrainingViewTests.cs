using Tunebook.Notebook.Displays;
using Tunebook.Tuning.Training;

namespace Tunebook.Notebook.Tests;

/// <summary>The live training view: throttled redraws on a fake clock, the final state always drawn, interrupts reported.</summary>
[Collection(HostCollection.Name)]
public class TrainingViewTests
{
    static Trainer NewTrainer(int steps, int? evalEvery = null)
    {
        var model = TinyModel.Create();
        var data = Tune.LoadData("datasets/puddle/train.jsonl", TinyModel.Tokenizer, val: 0.1, maxLength: 96);
        Tune.ApplyLora(model, new Tunebook.Tuning.Lora.LoraConfig { R = 4 });
        return Tune.CreateTrainer(model, data, new TrainerOptions { MaxSteps = steps, BatchSize = 2, LearningRate = 1e-2, EvalEvery = evalEvery });
    }

    [Fact]
    public void Redraws_are_throttled_and_the_final_state_is_always_drawn()
    {
        using var trainer = NewTrainer(steps: 12);
        var host = new RecordingHost();
        var clock = new FakeClock();
        // 100 ms per step against a 400 ms interval: a redraw at most every 4th step.
        trainer.StepCompleted += _ => clock.Advance(TimeSpan.FromMilliseconds(100));
        var view = new TrainingView(trainer, host, clock, TimeSpan.FromMilliseconds(400)).Show();
        trainer.Run();
        int beforeComplete = view.Renders;
        Assert.InRange(beforeComplete, 2, 5); // the first draw plus one per 400 ms of 1.2 s
        view.Complete();
        Assert.Equal(beforeComplete + 1, view.Renders);

        var progress = host.Areas[0];
        var final = progress.Last;
        Assert.Equal(view.Renders, progress.Versions.Count);
        Assert.Contains("completed at step 12", final["text/plain"]);
        Assert.Contains("step 12/12", final["text/html"]);
        var lastLoss = trainer.Steps.Last().Loss;
        Assert.Contains(Html.Num(lastLoss), final["text/html"]);
        HtmlCheck.WellFormed(final["text/html"]!);

        var chart = host.Areas[1];
        Assert.Equal(progress.Versions.Count, chart.Versions.Count);
        Assert.Contains("train loss", chart.Last[Charts.Figure.PlotlyMimeType]);
        Assert.Contains("<svg", chart.Last[Charts.Figure.SvgMimeType]);
    }

    [Fact]
    public void Without_time_passing_only_the_first_evaluations_and_final_states_are_drawn()
    {
        using var trainer = NewTrainer(steps: 5);
        var host = new RecordingHost();
        var view = new TrainingView(trainer, host, new FakeClock(), TimeSpan.FromSeconds(1)).Show();
        trainer.Run();
        // Steps are throttled away; an evaluation (here the one at the end of the run) is drawn at once.
        int evaluations = trainer.Evaluations.Count();
        Assert.Equal(1, evaluations);
        Assert.Equal(1 + evaluations, view.Renders);
        view.Complete();
        Assert.Equal(2 + evaluations, view.Renders);
        Assert.Contains("step 5/5", host.Areas[0].Last["text/plain"]);
    }

    [Fact]
    public void An_interrupt_stops_at_a_step_boundary_and_the_view_says_where()
    {
        using var trainer = NewTrainer(steps: 40, evalEvery: 100);
        var host = new RecordingHost();
        var saved = Interactive.Frontend.Host;
        Interactive.Frontend.Host = host;
        try
        {
            trainer.StepCompleted += s => { if (s.Step == 3) host.Cancel.Cancel(); };
            // The cell ends as interrupted (the kernel reports KeyboardInterrupt and a Run All stops here).
            var interrupted = Assert.Throws<OperationCanceledException>(() => Tune.Continue(trainer, host.Cancellation));
            Assert.Contains("step 3", interrupted.Message);
            Assert.Equal(StopReason.Cancelled, ((TrainingStopped)trainer.History.Last(e => e is TrainingStopped)).Reason);
            Assert.Equal(3, trainer.GlobalStep);
            Assert.Contains("stopped at step 3", host.Areas[0].Last["text/plain"]);

            // Continuing picks up from step 3 in a new view that still holds the earlier steps.
            Tune.Step(trainer, 2);
            Assert.Equal(5, trainer.GlobalStep);
            Assert.Contains("step 5/40", host.Areas[^2].Last["text/plain"]);

            var stopped = Tune.Stop(trainer);
            Assert.StartsWith("stopped at step 5", stopped.Status);
            Assert.Equal(5, trainer.Evaluations.Last().Step); // stop evaluates the final weights
            Assert.Contains("validation loss", host.Areas[^1].Last["text/plain"]);
        }
        finally { Interactive.Frontend.Host = saved; }
    }

    [Fact]
    public async Task An_interrupted_train_magic_ends_as_cancelled_and_says_how_to_resume_once()
    {
        var context = new FakeContext();
        var model = TinyModel.Create();
        context.Variables["model"] = model;
        context.Variables["data"] = Tune.LoadData("datasets/puddle/train.jsonl", TinyModel.Tokenizer, val: 0.1, maxLength: 96);
        Tune.ApplyLora(model, new Tunebook.Tuning.Lora.LoraConfig { R = 4 });
        var saved = Interactive.Frontend.Host;
        Interactive.Frontend.Host = context.Recorder;
        try
        {
            var magic = NotebookExtension.Magics.Single(m => m.Name == "train");
            context.Recorder.Cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => magic.RunAsync(Interactive.MagicParser.Parse(magic, "--steps 40 --batch 2"), context));
            var trainer = Assert.IsType<Trainer>(context.Variables["trainer"]);
            Assert.Equal(StopReason.Cancelled, ((TrainingStopped)trainer.History.Last(e => e is TrainingStopped)).Reason);
            var final = context.Recorder.Areas[^2].Last["text/plain"]!;
            Assert.StartsWith("stopped at step 0", final);
            // The hint is in the view, and nowhere else.
            var everything = context.Output.ToString() + string.Concat(context.Recorder.Areas.Select(a => a.Last["text/plain"]));
            Assert.Equal(1, CountOf(everything, "#!train continue resumes"));
        }
        finally { Interactive.Frontend.Host = saved; }
    }

    static int CountOf(string text, string part)
    {
        int count = 0;
        for (int at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + 1, StringComparison.Ordinal)) count++;
        return count;
    }

    [Fact]
    public void Status_lines_describe_each_stop_reason()
    {
        Assert.Equal("completed at step 10; best validation loss 1.5 at step 8", TrainingView.Describe(new TrainingStopped(10, StopReason.Completed, 8, 1.5)));
        Assert.StartsWith("stopped at step 4", TrainingView.Describe(new TrainingStopped(4, StopReason.Cancelled, null, null)));
        Assert.StartsWith("early stopped at step 30", TrainingView.Describe(new TrainingStopped(30, StopReason.EarlyStopped, 20, 0.9)));
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostCollection { public const string Name = "Frontend.Host"; }
