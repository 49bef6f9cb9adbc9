using System.Diagnostics;
using System.Text.Json;
using Tunebook.Torch;
using Tunebook.Torch.nn;
using Tunebook.Torch.optim;
using F = Tunebook.Torch.nn.functional;

namespace Tunebook.Bench;

/// <summary>
/// Engine benchmark: per-call overhead of a tiny op, 1024² matmul GFLOP/s in fp32 and bf16, and one
/// step (forward + backward + AdamW) of a small MLP. tests/bench/engine_reference.py measures the
/// same things in PyTorch; tests/bench/engine.sh runs both and prints the ratios.
/// </summary>
public static class EngineBenchmark
{
    public const int MlpBatch = 64, MlpIn = 512, MlpHidden = 2048, MlpOut = 512;

    public static int Run(string[] args)
    {
        var threads = torch.get_num_threads();
        Emit("threads", threads, "count");
        Emit("tiny_add_ns", TinyOp((a, b) => a + b), "ns/call");
        Emit("tiny_neg_dispatcher_ns", TinyOp((a, _) => a.neg()), "ns/call");
        Emit("matmul_1024_fp32_gflops", Matmul(ScalarType.Float32), "GFLOP/s");
        Emit("matmul_1024_bf16_gflops", Matmul(ScalarType.BFloat16), "GFLOP/s");
        Emit("linear_one_row_576x1536_us", LinearOneRow(), "us/call");
        var mlp = MlpStep();
        Emit("mlp_step_ms", mlp.Step, "ms/step");
        Emit("mlp_forward_ms", mlp.Forward, "ms/step");
        Emit("mlp_backward_ms", mlp.Backward, "ms/step");
        Emit("mlp_optimizer_ms", mlp.Optimizer, "ms/step");
        return 0;
    }

    static void Emit(string metric, double value, string unit)
    {
        Console.WriteLine(JsonSerializer.Serialize(new { impl = "tunebook", metric, value = Math.Round(value, 3), unit }));
        // OpenBLAS's threads keep spinning for a while after a product; let both pools go idle so one
        // measurement does not run against the previous one's threads (engine_reference.py does the same).
        Thread.Sleep(500);
    }

    /// <summary>Median over repeats of the time per call of op on one-element tensors (result freed each call).</summary>
    static double TinyOp(Func<Tensor, Tensor, Tensor> op)
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.ones(1);
        var b = torch.ones(1);
        const int calls = 100_000;
        var samples = new List<double>();
        for (int repeat = 0; repeat < 7; repeat++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < calls; i++)
            {
                var r = op(a, b);
                r.Dispose();
            }
            samples.Add(sw.Elapsed.TotalNanoseconds / calls);
        }
        return Median(samples.Skip(2)); // the first repeats include JIT tiering
    }

    /// <summary>
    /// Median time of a linear layer on one row (a decoding step's product: SmolLM2-135M's 576 → 1536
    /// gate projection, float32), which the engine runs as a matrix-vector product.
    /// </summary>
    static double LinearOneRow()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(0);
        var weight = torch.randn(1536, 576);
        var x = torch.randn(1, 1, 576);
        for (int i = 0; i < 20; i++) Tunebook.Torch.nn.functional.linear(x, weight).Dispose();
        var samples = new List<double>();
        for (int repeat = 0; repeat < 9; repeat++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < 200; i++) Tunebook.Torch.nn.functional.linear(x, weight).Dispose();
            samples.Add(sw.Elapsed.TotalMicroseconds / 200);
        }
        return Median(samples);
    }

    static double Matmul(ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(0);
        var a = torch.randn([1024, 1024], dtype);
        var b = torch.randn([1024, 1024], dtype);
        for (int i = 0; i < 3; i++) a.matmul(b).Dispose();
        var samples = new List<double>();
        for (int repeat = 0; repeat < 15; repeat++)
        {
            var sw = Stopwatch.StartNew();
            a.matmul(b).Dispose();
            samples.Add(sw.Elapsed.TotalSeconds);
        }
        return 2.0 * 1024 * 1024 * 1024 / Median(samples) / 1e9;
    }

    sealed class Mlp : Module<Tensor, Tensor>
    {
        readonly Linear fc1, fc2;
        public Mlp()
        {
            fc1 = RegisterModule("fc1", new Linear(MlpIn, MlpHidden));
            fc2 = RegisterModule("fc2", new Linear(MlpHidden, MlpOut));
        }
        public override Tensor forward(Tensor x) => fc2.forward(fc1.forward(x).gelu());
    }

    /// <summary>
    /// Median time of a full training step, and of its three phases measured in the same steps
    /// (forward + loss, backward, zero_grad + AdamW step), so a gap to PyTorch can be located.
    /// </summary>
    static (double Step, double Forward, double Backward, double Optimizer) MlpStep()
    {
        torch.manual_seed(0);
        using var model = new Mlp();
        using var opt = new AdamW(model.parameters(), lr: 1e-3);
        using var data = torch.NewDisposeScope();
        var x = torch.randn(MlpBatch, MlpIn);
        var y = torch.randn(MlpBatch, MlpOut);
        (double, double, double) Step()
        {
            using var scope = torch.NewDisposeScope();
            var t0 = Stopwatch.GetTimestamp();
            opt.zero_grad();
            var loss = F.mse_loss(model.forward(x), y);
            var t1 = Stopwatch.GetTimestamp();
            loss.backward();
            var t2 = Stopwatch.GetTimestamp();
            opt.step();
            var t3 = Stopwatch.GetTimestamp();
            return (Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds, Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds,
                Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds);
        }
        for (int i = 0; i < 5; i++) Step();
        var samples = new List<(double F, double B, double O)>();
        for (int i = 0; i < 30; i++) samples.Add(Step());
        return (Median(samples.Select(s => s.F + s.B + s.O)), Median(samples.Select(s => s.F)),
            Median(samples.Select(s => s.B)), Median(samples.Select(s => s.O)));
    }

    static double Median(IEnumerable<double> values)
    {
        var s = values.OrderBy(v => v).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
