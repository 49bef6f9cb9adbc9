using Tunebook.Torch.nn;
using Tunebook.Torch.optim;
using F = Tunebook.Torch.nn.functional;

namespace Tunebook.Torch.Tests;

public class RuntimeTests
{
    [Fact]
    public void IntraOpThreadsDefaultToAllCores()
    {
        // Unless OMP_NUM_THREADS/TUNEBOOK_NUM_THREADS choose otherwise (libtorch 1.13 alone uses half).
        if (Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is null && Environment.GetEnvironmentVariable("TUNEBOOK_NUM_THREADS") is null)
            Assert.Equal(Environment.ProcessorCount, torch.get_num_threads());
        Assert.Throws<ArgumentOutOfRangeException>(() => torch.set_num_threads(0));
    }

    [Fact]
    public void OpenMpWorkersSpinBrieflyUnlessTheUserChose()
    {
        // libgomp reads GOMP_SPINCOUNT when libtorch loads; long-spinning workers starve OpenBLAS's
        // threads (docs/engine.md, "Threads"). The loader must have put it in the native environment.
        _ = torch.get_num_threads();
        var native = System.Runtime.InteropServices.Marshal.PtrToStringAnsi(getenv("GOMP_SPINCOUNT"));
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null && Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is null)
            Assert.Equal("10000", native);
        else if (Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is { } own) Assert.Equal(own, native);
    }

    [Fact]
    public void NamesTheKernelsOpenBlasRuns()
    {
        // Debian's libtorch multiplies float32 with OpenBLAS, which picks its kernels at load: from
        // OPENBLAS_CORETYPE when set (the name it prints matches it up to case), else from the CPU model.
        var core = torch.blas_core;
        if (!File.Exists("/usr/lib/x86_64-linux-gnu/libtorch.so.1.13") || Environment.GetEnvironmentVariable("TUNEBOOK_NATIVE_LIB") is not null) return;
        Assert.False(string.IsNullOrWhiteSpace(core));
        if (Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") is { Length: > 0 } chosen
            && chosen.ToUpperInvariant() is "HASWELL" or "SKYLAKEX" or "SANDYBRIDGE" or "ZEN" or "PRESCOTT")
            Assert.Equal(chosen, core, ignoreCase: true);
        Assert.Same(core, torch.blas_core);   // read once
    }

    [System.Runtime.InteropServices.DllImport("libc", CharSet = System.Runtime.InteropServices.CharSet.Ansi)]
    static extern IntPtr getenv(string name);

    [Fact]
    public void ReportsVersionAndCuda()
    {
        Assert.Matches(@"^\d+\.\d+\.\d+$", torch.__version__);
        Assert.Equal(torch.cuda.is_available(), torch.cuda.device_count() > 0);
    }

    [Fact]
    public void RngStateRestoresTheSameSamples()
    {
        using var scope = torch.NewDisposeScope();
        var state = torch.get_rng_state();
        var a = torch.rand(4).data<float>();
        torch.set_rng_state(state);
        Assert.Equal(a, torch.rand(4).data<float>());
    }

    [Fact]
    public void DeviceRngStateReplaysSamplesAndRefusesAMissingGpu()
    {
        using var scope = torch.NewDisposeScope();
        var state = torch.get_rng_state(Device.CPU);
        Assert.True(state.equal(torch.get_rng_state()));
        var a = torch.rand(4).data<float>();
        torch.set_rng_state(Device.CPU, state);
        Assert.Equal(a, torch.rand(4).data<float>());
        if (!torch.cuda.is_available())
            Assert.Contains("CUDA is not available", Assert.Throws<TorchException>(() => torch.get_rng_state(new Device("cuda:0"))).Message);
    }

    [Fact]
    public void PrintsLikePyTorch()
    {
        using var scope = torch.NewDisposeScope();
        // Expected strings are what PyTorch 1.13 prints for the same tensors.
        Assert.Equal("tensor([[1., 2.],\n        [3., 4.]])", torch.tensor(new float[] { 1, 2, 3, 4 }, [2, 2]).ToString());
        Assert.Equal("tensor([[-0.5000,  2.2500],\n        [ 3.0000, 10.1250]])", torch.tensor(new float[] { -0.5f, 2.25f, 3, 10.125f }, [2, 2]).ToString());
        Assert.Equal("tensor([ 1, 20, -3])", torch.tensor(new long[] { 1, 20, -3 }).ToString());
        Assert.Equal("tensor([1, 2, 3])", torch.tensor(new long[] { 1, 2, 3 }).ToString());
        Assert.Equal("tensor([1.5000], dtype=torch.bfloat16)", torch.tensor(new float[] { 1.5f }).bfloat16().ToString());
        Assert.Equal("tensor([[   0,    1,    2,  ...,  997,  998,  999],\n        [1000, 1001, 1002,  ..., 1997, 1998, 1999]])",
            torch.arange(0, 2000).reshape(2, 1000).ToString());
    }

    [Fact]
    public void DispatcherReachesAnyOperator()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new float[] { 3, 1, 2 });
        var (values, indices) = Op.Get("aten::sort").Call2(x, 0L, false);
        Assert.Equal(new float[] { 1, 2, 3 }, values.data<float>());
        Assert.Equal(new long[] { 1, 2, 0 }, indices.data<long>());
        Assert.Contains("aten::sort", Op.Get("aten::sort").Schema);
        Assert.Null(Op.TryGet("aten::definitely_missing"));
    }

    static long Resident()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return ResidentBytes();
    }

    static long ResidentBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:"))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("no VmRSS in /proc/self/status");
    }

    sealed class Net : Module<Tensor, Tensor>
    {
        readonly Embedding _emb;
        readonly Linear _up, _down;
        readonly RMSNorm _norm;
        public Net()
        {
            _emb = RegisterModule("emb", new Embedding(100, 32));
            _norm = RegisterModule("norm", new RMSNorm(32));
            _up = RegisterModule("up", new Linear(32, 64));
            _down = RegisterModule("down", new Linear(64, 100));
        }
        public override Tensor forward(Tensor ids)
        {
            var h = _norm.forward(_emb.forward(ids));
            var q = h.view(2, 8, 2, 16).transpose(1, 2);
            var a = F.scaled_dot_product_attention(q, q, q, is_causal: true).transpose(1, 2).reshape(2, 8, 32);
            return _down.forward(F.dropout(_up.forward(a + h).gelu(), 0.1, training));
        }
    }

    [Fact]
    public void TrainingLoopInsideDisposeScopesKeepsResidentMemoryFlat()
    {
        torch.manual_seed(0);
        using var model = new Net();
        using var opt = new AdamW(model.parameters(), lr: 1e-3);
        void Steps(int n)
        {
            for (int i = 0; i < n; i++)
            {
                using var scope = torch.NewDisposeScope();
                var ids = torch.randint(0, 100, [2, 8]);
                var logits = model.forward(ids);
                var loss = F.cross_entropy(logits.view(-1, 100), ids.view(-1));
                opt.zero_grad();
                loss.backward();
                utils.clip_grad_norm_(model.parameters(), 1.0);
                opt.step();
                _ = loss.item<float>();
                _ = logits.shape;
            }
        }
        // The runtime itself still grows for a while (tiered JIT, GC and malloc arenas: up to ~8 MB
        // per 1500 steps early on, measured), so warm up, then require the following windows to stay
        // flat. Without scopes this loop leaks ~30 KB per step (~45 MB per 1500 steps, measured).
        // One intra-op thread keeps the test quick on a busy machine; memory does not depend on it.
        int threads = torch.get_num_threads();
        torch.set_num_threads(1);
        try
        {
            Steps(1500);
            long start = Resident();
            Steps(1500);
            long middle = Resident();
            Steps(1500);
            long end = Resident();
            Assert.True(middle - start < 16L << 20, $"resident memory grew by {(middle - start) / 1024} KiB over steps 1500-3000");
            Assert.True(end - start < 20L << 20, $"resident memory grew by {(end - start) / 1024} KiB over steps 1500-4500");
            Assert.True(end - middle < 8L << 20, $"resident memory grew by {(end - middle) / 1024} KiB over steps 3000-4500");
        }
        finally
        {
            torch.set_num_threads(threads);
        }
    }
}
