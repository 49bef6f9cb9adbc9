#:project ../../src/Tunebook.Tuning/Tunebook.Tuning.csproj
#:property AllowUnsafeBlocks=true
#:property PublishAot=false
// A/B of grouped-query attention's two forms in the blocked causal kernel: keys and values repeated for every
// query head (torch.cat of the heads, then the kernel with one query head per key/value head) against the query
// heads of a key/value head grouped side by side (what F.scaled_dot_product_attention does). One layer of the
// lora-cpu-32m-bf16 benchmark's attention (8 query heads, 4 key/value heads, 4 × 256 tokens, bfloat16), forward
// and backward, through the output projection's transpose(1, 2).reshape; the two forms alternate ROUNDS times
// (default 300) in one process. Not part of `make bench`; run it as
// `dotnet run -c Release tests/bench/attention_grouping.cs`. docs/engine.md (Fused kernels) has what it found.
using System.Diagnostics;
using Tunebook.Torch;
using F = Tunebook.Torch.nn.functional;

const long B = 4, H = 8, Hkv = 4, T = 256, D = 64;
int rounds = int.TryParse(Environment.GetEnvironmentVariable("ROUNDS"), out var r) ? r : 300;
torch.manual_seed(1);
var q0 = torch.randn(B, H, T, D).to(ScalarType.BFloat16);
var k0 = torch.randn(B, Hkv, T, D).to(ScalarType.BFloat16);
var v0 = torch.randn(B, Hkv, T, D).to(ScalarType.BFloat16);
var d = torch.randn(B, T, H * D).to(ScalarType.BFloat16);

double Milliseconds(bool repeat)
{
    using var scope = torch.NewDisposeScope();
    var q = q0.detach().requires_grad_(true);
    var k = k0.detach().requires_grad_(true);
    var v = v0.detach().requires_grad_(true);
    long start = Stopwatch.GetTimestamp();
    Tensor keys = k, values = v;
    if (repeat)
    {
        keys = torch.cat(Enumerable.Repeat(k.unsqueeze(-3), (int)(H / Hkv)).ToArray(), -3).reshape(B, H, T, D);
        values = torch.cat(Enumerable.Repeat(v.unsqueeze(-3), (int)(H / Hkv)).ToArray(), -3).reshape(B, H, T, D);
    }
    var y = F.scaled_dot_product_attention(q, keys, values, null, 0, true).transpose(1, 2).reshape(B, T, H * D);
    (y * d).sum().backward();
    return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
}

for (int i = 0; i < 10; i++) { Milliseconds(true); Milliseconds(false); }
var repeated = new List<double>();
var grouped = new List<double>();
for (int i = 0; i < rounds; i++) { repeated.Add(Milliseconds(true)); grouped.Add(Milliseconds(false)); }
repeated.Sort();
grouped.Sort();
Console.WriteLine($"repeated heads: best {repeated[0]:F2} ms, median {repeated[rounds / 2]:F2} ms; " +
                  $"grouped heads: best {grouped[0]:F2} ms, median {grouped[rounds / 2]:F2} ms (one layer, forward and backward)");
