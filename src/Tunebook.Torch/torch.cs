using System.Runtime.InteropServices;
using Tunebook.Torch.Interop;

namespace Tunebook.Torch;

/// <summary>
/// PyTorch-style entry points: <c>torch.zeros(2, 3)</c>, <c>torch.manual_seed(0)</c>,
/// <c>using (torch.no_grad()) { ... }</c>. Split by topic over torch.*.cs files.
/// </summary>
public static partial class torch
{
    static int _initialized;

    // Tensors up to 32 MiB (glibc's largest allowed mmap threshold) come from the heap, and up to
    // 1 GiB of freed heap stays mapped for reuse instead of being returned after every step.
    const long HostAllocatorMmapThreshold = 32L << 20, HostAllocatorTrimThreshold = 1L << 30;

    /// <summary>Loads the shim and applies process defaults (intra-op threads = all cores). Idempotent.</summary>
    internal static void EnsureInitialized()
    {
        if (Volatile.Read(ref _initialized) == 1) return;
        lock (typeof(torch))
        {
            if (_initialized == 1) return;
            // libtorch 1.13 uses half the cores by default; use them all unless the user chose
            // (OMP_NUM_THREADS / TUNEBOOK_NUM_THREADS).
            int threads = Environment.ProcessorCount;
            if (int.TryParse(Environment.GetEnvironmentVariable("TUNEBOOK_NUM_THREADS"), out var t) && t > 0) threads = t;
            else if (int.TryParse(Environment.GetEnvironmentVariable("OMP_NUM_THREADS"), out var o) && o > 0) threads = o;
            NativeMethods.tb_set_num_threads(threads);
            // Keep freed tensor memory warm for the next step (see tb_tune_host_allocator and
            // docs/memory.md); TUNEBOOK_HOST_ALLOCATOR=system keeps the C library's defaults.
            if (!string.Equals(Environment.GetEnvironmentVariable("TUNEBOOK_HOST_ALLOCATOR"), "system", StringComparison.OrdinalIgnoreCase))
                NativeMethods.tb_tune_host_allocator(HostAllocatorMmapThreshold, HostAllocatorTrimThreshold);
            ApplyCpuMatmulDefault();
            ApplyFusedKernelsDefault();
            Volatile.Write(ref _initialized, 1);
        }
    }

    /// <summary>Version of the linked libtorch, e.g. "1.13.0".</summary>
    public static string __version__
    {
        get { EnsureInitialized(); return Marshal.PtrToStringUTF8(NativeMethods.tb_version()) ?? "?"; }
    }

    /// <summary>
    /// The kernels OpenBLAS multiplies float32 matrices with in this process ("Cooperlake", "Haswell"…), or null
    /// when libtorch uses another BLAS (MKL, or a GPU build's). The speed of float32 products and the last bits
    /// of losses depend on it (docs/engine.md, "OpenBLAS's kernels").
    /// </summary>
    public static string? blas_core
    {
        get { EnsureInitialized(); return _blasCore.Value; }
    }

    static readonly Lazy<string?> _blasCore = new(OpenBlas.LoadedCore);

    /// <summary>Sets the number of intra-op threads libtorch uses.</summary>
    public static void set_num_threads(int n)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "number of threads must be at least 1");
        EnsureInitialized();
        TorchException.Check(NativeMethods.tb_set_num_threads(n), "set_num_threads");
    }

    /// <summary>Number of intra-op threads libtorch uses.</summary>
    public static int get_num_threads()
    {
        EnsureInitialized();
        return NativeMethods.tb_get_num_threads();
    }

    /// <summary>Seeds the CPU and every CUDA generator.</summary>
    public static void manual_seed(long seed)
    {
        EnsureInitialized();
        TorchException.Check(NativeMethods.tb_manual_seed(unchecked((ulong)seed)), "manual_seed");
    }

    /// <summary>Snapshot of the CPU generator's state (a uint8 tensor), for bit-exact resume.</summary>
    public static Tensor get_rng_state()
    {
        EnsureInitialized();
        return Tensor.Wrap(NativeMethods.tb_rng_get_state(), "get_rng_state");
    }

    /// <summary>Restores a state from <see cref="get_rng_state"/>.</summary>
    public static void set_rng_state(Tensor state)
    {
        ArgumentNullException.ThrowIfNull(state);
        TorchException.Check(NativeMethods.tb_rng_set_state(state.Handle), "set_rng_state");
    }

    /// <summary>Snapshot of a device's default generator (CPU, or a CUDA device), e.g. to replay dropout on recomputation.</summary>
    public static Tensor get_rng_state(Device device)
    {
        EnsureInitialized();
        return Tensor.Wrap(NativeMethods.tb_rng_get_state_device((int)device.Type, device.Index), $"get_rng_state({device})");
    }

    /// <summary>Restores a state from <see cref="get_rng_state(Device)"/> on the same device.</summary>
    public static void set_rng_state(Device device, Tensor state)
    {
        ArgumentNullException.ThrowIfNull(state);
        EnsureInitialized();
        TorchException.Check(NativeMethods.tb_rng_set_state_device((int)device.Type, device.Index, state.Handle), $"set_rng_state({device})");
    }

    /// <summary>Opens a dispose scope on this thread (see <see cref="DisposeScope"/>).</summary>
    public static DisposeScope NewDisposeScope()
    {
        EnsureInitialized();
        return new DisposeScope();
    }

    /// <summary>Disables gradient recording on this thread until disposed.</summary>
    public static GradModeScope no_grad() => new(false);

    /// <summary>Enables gradient recording on this thread until disposed.</summary>
    public static GradModeScope enable_grad() => new(true);

    /// <summary>Sets gradient recording on this thread until disposed.</summary>
    public static GradModeScope set_grad_enabled(bool enabled) => new(enabled);

    /// <summary>Whether gradients are recorded on this thread.</summary>
    public static bool is_grad_enabled()
    {
        EnsureInitialized();
        return NativeMethods.tb_grad_enabled() == 1;
    }

    /// <summary>CUDA queries.</summary>
    public static class cuda
    {
        /// <summary>True when the linked libtorch has CUDA and a GPU is present.</summary>
        public static bool is_available() { EnsureInitialized(); return NativeMethods.tb_cuda_is_available() == 1; }

        /// <summary>Number of visible CUDA devices (0 without CUDA).</summary>
        public static int device_count() { EnsureInitialized(); return NativeMethods.tb_cuda_device_count(); }

        /// <summary>Waits for all work on a CUDA device.</summary>
        public static void synchronize(int device = -1)
        {
            EnsureInitialized();
            TorchException.Check(NativeMethods.tb_cuda_synchronize(device), "cuda.synchronize");
        }

        /// <summary>
        /// True when the linked shim was built against a CUDA libtorch, so the caching allocator's
        /// statistics below can be read (a GPU must also be present for them to be non-zero).
        /// </summary>
        public static bool has_memory_stats()
        {
            EnsureInitialized();
            int rc = NativeMethods.tb_cuda_memory_stats(-1, out _, out _, out _, out _);
            // 1: read; 0: built without CUDA; -1: built with CUDA but no device visible.
            return rc != 0;
        }

        /// <summary>Bytes of GPU memory held by live tensors on <paramref name="device"/> (-1: current).</summary>
        public static long memory_allocated(int device = -1) => Stats(device).Allocated;

        /// <summary>The most bytes held by tensors since start or <see cref="reset_peak_memory_stats"/>.</summary>
        public static long max_memory_allocated(int device = -1) => Stats(device).PeakAllocated;

        /// <summary>Bytes the caching allocator has reserved from the driver (live tensors plus cache).</summary>
        public static long memory_reserved(int device = -1) => Stats(device).Reserved;

        /// <summary>The most bytes reserved since start or <see cref="reset_peak_memory_stats"/>.</summary>
        public static long max_memory_reserved(int device = -1) => Stats(device).PeakReserved;

        /// <summary>Starts the peak counters afresh, so a later max_memory_* measures one phase.</summary>
        public static void reset_peak_memory_stats(int device = -1)
        {
            EnsureInitialized();
            int rc = NativeMethods.tb_cuda_reset_peak_memory_stats(device);
            TorchException.Check(rc, "cuda.reset_peak_memory_stats");
            if (rc == 0) throw NotBuiltWithCuda("reset_peak_memory_stats");
        }

        /// <summary>All four allocator figures of a device at once.</summary>
        public static CudaMemoryStats memory_stats(int device = -1) => Stats(device);

        static CudaMemoryStats Stats(int device)
        {
            EnsureInitialized();
            int rc = NativeMethods.tb_cuda_memory_stats(device, out long allocated, out long peakAllocated, out long reserved, out long peakReserved);
            TorchException.Check(rc, "cuda.memory_stats");
            if (rc == 0) throw NotBuiltWithCuda("memory statistics");
            return new CudaMemoryStats(allocated, peakAllocated, reserved, peakReserved);
        }

        static InvalidOperationException NotBuiltWithCuda(string what) =>
            new($"cuda.{what}: not available: the native shim was built against a libtorch without CUDA " +
                "(rebuild it with `make native TORCH_PREFIX=...` pointing at a CUDA libtorch)");
    }
}

/// <summary>The CUDA caching allocator's figures for one device, in bytes.</summary>
public readonly record struct CudaMemoryStats(long Allocated, long PeakAllocated, long Reserved, long PeakReserved);

/// <summary>Restores the previous grad mode when disposed (see <see cref="torch.no_grad"/>).</summary>
public sealed class GradModeScope : IDisposable
{
    readonly bool _previous;
    bool _disposed;

    internal GradModeScope(bool enabled)
    {
        torch.EnsureInitialized();
        _previous = NativeMethods.tb_grad_enabled() == 1;
        NativeMethods.tb_set_grad_enabled(enabled ? 1 : 0);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        NativeMethods.tb_set_grad_enabled(_previous ? 1 : 0);
    }
}
