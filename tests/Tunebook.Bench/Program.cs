using Tunebook.Bench;

// Usage: Tunebook.Bench <benchmark> [options]. Each benchmark prints JSON lines to stdout.
var benchmarks = new Dictionary<string, Func<string[], int>>
{
    ["engine"] = EngineBenchmark.Run,
    ["generation"] = GenerationBenchmark.Run,
    ["generation-profile"] = GenerationProfile.Run,
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: Tunebook.Bench <{string.Join("|", benchmarks.Keys)}> [options]");
    return 2;
}
return run(args[1..]);
