// Data-check cost in Tunebook: the whole DataChecks pass (leakage against a validation split, near-duplicate clusters,
// secrets and personal data, balance) over N synthetic Alpaca examples, and the near-duplicate search alone (MinHash
// signatures, LSH banding, union-find). 5% of the examples are near-copies of others, so clusters are really built.
// Run by tests/bench/data_checks.sh.
#:project ../../src/Tunebook.Tuning/Tunebook.Tuning.csproj
#:property PublishAot=false
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Tuning.Data;
using Tunebook.Tuning.Data.Quality;

var sizes = args.Select(int.Parse).ToArray();
var rng = new Random(1);
var words = Enumerable.Range(0, 5000).Select(_ => new string(Enumerable.Range(0, rng.Next(3, 10)).Select(_ => (char)('a' + rng.Next(26))).ToArray())).ToArray();
string Sentence(int n) => string.Join(' ', Enumerable.Range(0, n).Select(_ => words[rng.Next(words.Length)]));
string[] categories = ["watering", "schedules", "billing", "account", "sensors"];

foreach (var n in sizes)
{
    var records = new List<JsonObject>(n);
    for (int i = 0; i < n; i++)
    {
        string instruction, output;
        if (i > 0 && rng.NextDouble() < 0.05)
        {
            // A near-copy of an earlier example: one word added.
            var source = records[rng.Next(records.Count)];
            instruction = (string)source["instruction"]! + " " + words[rng.Next(words.Length)];
            output = (string)source["output"]!;
        }
        else { instruction = Sentence(rng.Next(8, 20)) + "?"; output = Sentence(rng.Next(10, 40)) + "."; }
        records.Add(new JsonObject { ["instruction"] = instruction, ["input"] = "", ["output"] = output, ["category"] = categories[rng.Next(categories.Length)] });
    }
    var data = Dataset.FromRecords(records);
    var validation = Enumerable.Range(0, n).Where(i => i % 100 == 0).ToList();   // a 1% validation split

    // One untimed small run so JIT compilation and compiled patterns are not measured.
    DataChecks.Run(Dataset.FromRecords(records.Take(2000).Select(r => (JsonObject)r.DeepClone())), validationIndices: [0, 100]);

    var clock = Stopwatch.StartNew();
    var report = DataChecks.Run(data, validationIndices: validation);
    double all = clock.Elapsed.TotalSeconds;

    var minHash = new MinHash(DataCheckOptions.Default.ShingleSize);
    clock.Restart();
    var signatures = new uint[]?[n];
    Parallel.For(0, n, i => signatures[i] = minHash.Signature(ExampleParts.Normalize(ExampleParts.Whole(data[i]))));
    double signing = clock.Elapsed.TotalSeconds;
    clock.Restart();
    var clusters = NearDuplicates.Cluster(signatures, DataCheckOptions.Default.NearThreshold);
    double clustering = clock.Elapsed.TotalSeconds;

    Console.WriteLine(JsonSerializer.Serialize(new
    {
        examples = n, all_checks_s = all, near_duplicates_s = signing + clustering, signatures_s = signing, clustering_s = clustering,
        clusters = clusters.Count, redundant = report.NearDuplicates.Redundant, validation_leaks = report.Leakage.Validation,
        cores = Environment.ProcessorCount,
    }));
}
