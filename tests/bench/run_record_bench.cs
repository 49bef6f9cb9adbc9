// What recording a run costs (docs/reproducibility.md): per step, one metrics.jsonl line (the serialisation,
// write and flush MetricsLogger does for each event); per run, the SHA-256 of the model's weights and the
// atomic write of run.json. Run by tests/bench/run_record.sh.
#:project ../../src/Tunebook.Tuning/Tunebook.Tuning.csproj
#:property PublishAot=false
using System.Diagnostics;
using System.Text.Json;
using Tunebook.Tuning.Runs;
using Tunebook.Tuning.Training;

var weights = args.Length > 0 ? args[0] : "datasets/starter/model.safetensors";
var dir = Directory.CreateTempSubdirectory("tunebook-run-record-bench").FullName;

// Per step: exactly MetricsLogger's work for one StepCompleted event (MetricsLogger.Append: serialise, one write, flush),
// on the same kind of stream (append mode, unbuffered).
const int steps = 20_000;
using (var file = new FileStream(Path.Combine(dir, "metrics.jsonl"), FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0))
{
    for (int i = 0; i < 500; i++) MetricsLogger.Append(file, Event(i));
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < steps; i++) MetricsLogger.Append(file, Event(i));
    clock.Stop();
    Console.WriteLine(JsonSerializer.Serialize(new { bench = "run_record", what = "metrics_line_per_step", seconds = clock.Elapsed.TotalSeconds / steps }));
}

// Per run: hashing the weights once (streamed).
var hashClock = Stopwatch.StartNew();
var digest = FileDigest.Sha256(weights);
hashClock.Stop();
long bytes = new FileInfo(weights).Length;
Console.WriteLine(JsonSerializer.Serialize(new { bench = "run_record", what = "sha256_weights", bytes, seconds = hashClock.Elapsed.TotalSeconds, mib_per_s = bytes / 1048576.0 / hashClock.Elapsed.TotalSeconds, digest }));
Directory.Delete(dir, recursive: true);

static StepCompleted Event(int i) => new(i + 1, i / 100.0, 2.0 + Math.Sin(i) / 10, 2e-4, 0.8, 1234.5, 512, i * 0.1, 512L << 20);
