using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Tunebook.Torch;

namespace Tunebook.Tuning.Runs;

/// <summary>
/// Where a run ran: what decides whether its losses replay bit for bit (libtorch version, device, thread
/// count, CPU) and what names the code (Tunebook version and commit).
/// </summary>
public sealed record RunEnvironment
{
    public required string TunebookVersion { get; init; }
    /// <summary>The git commit of the checkout (with "+dirty" when it has uncommitted changes), or null outside a checkout.</summary>
    public string? GitCommit { get; init; }
    public required string LibtorchVersion { get; init; }
    /// <summary>"cpu", "cuda:0"…</summary>
    public required string Device { get; init; }
    /// <summary>torch's intra-op threads: CPU reductions are summed in a thread-count-dependent order.</summary>
    public required int Threads { get; init; }
    /// <summary>OpenBLAS's kernels (torch.blas_core): another kernel sums a product in another order. Null when unknown.</summary>
    public string? BlasCore { get; init; }
    /// <summary>The library of float32 CPU products (torch.cpu_matmul_name: "oneDNN 2.6.3" or "BLAS"). Null on a GPU, or when unknown.</summary>
    public string? CpuMatmul { get; init; }
    /// <summary>Whether the fused CPU kernels ran (torch.fused_cpu_kernels: RMSNorm, SwiGLU, attention's softmax, the loss). Null on a GPU, or when unknown.</summary>
    public bool? FusedKernels { get; init; }
    public required string Os { get; init; }
    public string? Cpu { get; init; }
    public string? Gpu { get; init; }

    /// <summary>The environment of this process for a run on <paramref name="device"/>.</summary>
    public static RunEnvironment Current(Device device) => new()
    {
        TunebookVersion = typeof(RunEnvironment).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                          ?? typeof(RunEnvironment).Assembly.GetName().Version?.ToString() ?? "unknown",
        GitCommit = GitCommitOfCheckout(),
        LibtorchVersion = torch.__version__,
        Device = device.ToString(),
        Threads = torch.get_num_threads(),
        BlasCore = device.IsCuda ? null : torch.blas_core,
        CpuMatmul = device.IsCuda ? null : torch.cpu_matmul_name,
        FusedKernels = device.IsCuda ? null : torch.fused_cpu_kernels,
        Os = RuntimeInformation.OSDescription,
        Cpu = CpuName(),
        Gpu = device.IsCuda ? GpuName() : null,
    };

    /// <summary>The fields that differ from <paramref name="other"/>, as "threads: 2 → 4".</summary>
    public IReadOnlyList<string> Differences(RunEnvironment other)
    {
        var list = new List<string>();
        void Check(string name, object? a, object? b) { if (!Equals(a, b)) list.Add($"{name}: {a ?? "none"} → {b ?? "none"}"); }
        Check("tunebook_version", TunebookVersion, other.TunebookVersion);
        Check("git_commit", GitCommit, other.GitCommit);
        Check("libtorch_version", LibtorchVersion, other.LibtorchVersion);
        Check("device", Device, other.Device);
        Check("threads", Threads, other.Threads);
        Check("blas_core", BlasCore, other.BlasCore);
        Check("cpu_matmul", CpuMatmul, other.CpuMatmul);
        Check("fused_kernels", FusedKernels, other.FusedKernels);
        Check("os", Os, other.Os);
        Check("cpu", Cpu, other.Cpu);
        Check("gpu", Gpu, other.Gpu);
        return list;
    }

    /// <summary>
    /// Whether a CPU replay here should give bit-identical losses: same libtorch, CPU device, thread count, BLAS
    /// kernels, product library and fused kernels (a record that does not name one of the last three, from before it
    /// was recorded, is taken at its word).
    /// </summary>
    public bool ReplaysExactly(RunEnvironment other) =>
        LibtorchVersion == other.LibtorchVersion && Device == "cpu" && other.Device == "cpu" && Threads == other.Threads
        && (BlasCore is null || other.BlasCore is null || BlasCore == other.BlasCore)
        && (CpuMatmul is null || other.CpuMatmul is null || CpuMatmul == other.CpuMatmul)
        && (FusedKernels is null || other.FusedKernels is null || FusedKernels == other.FusedKernels);

    static string? CpuName()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is var colon and > 0)
                    return line[(colon + 1)..].Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    // The NVIDIA driver lists each GPU's model under /proc; no process is started to ask nvidia-smi.
    static string? GpuName()
    {
        try
        {
            const string root = "/proc/driver/nvidia/gpus";
            if (!Directory.Exists(root)) return null;
            foreach (var info in Directory.EnumerateFiles(root, "information", SearchOption.AllDirectories).Order())
                foreach (var line in File.ReadLines(info))
                    if (line.StartsWith("Model:", StringComparison.Ordinal)) return line["Model:".Length..].Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }

    static string? GitCommitOfCheckout()
    {
        var git = RepositoryPaths.Find(".git");
        if (git is null) return null;
        try
        {
            var root = Path.GetDirectoryName(git)!;
            string? Git(string args)
            {
                using var process = Process.Start(new ProcessStartInfo("git", $"-C \"{root}\" {args}")
                {
                    RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                });
                if (process is null) return null;
                var output = process.StandardOutput.ReadToEnd();
                if (!process.WaitForExit(5000) || process.ExitCode != 0) return null;
                return output.Trim();
            }
            var commit = Git("rev-parse HEAD");
            if (string.IsNullOrEmpty(commit)) return null;
            var status = Git("status --porcelain --untracked-files=no");
            return string.IsNullOrEmpty(status) ? commit : commit + "+dirty";
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            return null;
        }
    }
}
