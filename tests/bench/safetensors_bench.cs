// Safetensors throughput in Tunebook: write a checkpoint, read every tensor's bytes, load it as tensors.
// Run by tests/bench/safetensors.sh, which measures the python/torch reference in the same run.
#:project ../../src/Tunebook.Torch/Tunebook.Torch.csproj
#:property AllowUnsafeBlocks=true
#:property PublishAot=false
using System.Diagnostics;
using System.Text.Json;
using Tunebook.Torch;

var folder = args[0];
var tensors = int.Parse(args[1]);
var elements = int.Parse(args[2]);
var repeats = 3;
var path = Path.Combine(folder, "tunebook.safetensors");

var random = new Random(1);
var payloads = Enumerable.Range(0, tensors).Select(_ => { var b = new byte[elements * 2]; random.NextBytes(b); return b; }).ToArray();

// One untimed run first so JIT compilation is not measured.
double Median(Func<double> run) { run(); return Enumerable.Range(0, repeats).Select(_ => run()).Order().ElementAt(repeats / 2); }

var write = Median(() =>
{
    var writer = new SafetensorsWriter(new Dictionary<string, string> { ["format"] = "pt" });
    for (var i = 0; i < tensors; i++) writer.Add($"model.layers.{i}.weight", SafetensorsDType.BF16, [elements / 1024, 1024], payloads[i]);
    var clock = Stopwatch.StartNew();
    writer.WriteFile(path);
    return clock.Elapsed.TotalSeconds;
});

var readBytes = Median(() =>
{
    var clock = Stopwatch.StartNew();
    ulong checksum = 0;
    using (var file = SafetensorsFile.Open(path))
        foreach (var entry in file.Entries)
        {
            var bytes = file.GetBytes(entry.Name);
            for (var i = 0; i < bytes.Length; i += 4096) checksum += bytes[i];   // touch every page
        }
    GC.KeepAlive(checksum);
    return clock.Elapsed.TotalSeconds;
});

var load = Median(() =>
{
    var clock = Stopwatch.StartNew();
    var loaded = Safetensors.Load(path);
    var seconds = clock.Elapsed.TotalSeconds;
    foreach (var t in loaded.Values) t.Dispose();
    return seconds;
});

Console.WriteLine(JsonSerializer.Serialize(new { write, read_bytes = readBytes, load, bytes = new FileInfo(path).Length }));
