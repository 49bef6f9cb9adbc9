// Fine-tunes the starter model with LoRA on the puddle questions and prints the validation loss before and after.
// Run from inside the Tunebook checkout (it finds datasets/starter and datasets/puddle there); the argument is the step count.
using Tunebook.Models;
using Tunebook.Tuning;
using Tunebook.Tuning.Data;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Training;

int steps = args.Length > 0 ? int.Parse(args[0]) : 100;
var model = CausalLM.FromPretrained(RepositoryPaths.ModelFolder("starter"));
var data = Dataset.Load(RepositoryPaths.Find("datasets/puddle/train.jsonl")!)
    .Prepare(model.Tokenizer!, options: new PrepareOptions { ValFraction = 0.1, MaxLength = 128 });
LoraModel.Apply(model, new LoraConfig { R = 16, Alpha = 32 });

var options = new TrainerOptions { MaxSteps = steps, LearningRate = 2e-3, BatchSize = 8, WarmupSteps = 5 };
using var trainer = new Trainer(model, data.Train, data.Validation, options);
double before = trainer.Measure(data.Validation!).Loss;
trainer.Run();
double after = trainer.Measure(data.Validation!).Loss;
Console.WriteLine($"validation loss: before {before:F4}, after {after:F4} ({steps} LoRA steps)");
