using Tunebook.Torch;

namespace Tunebook.Tuning.Training;

/// <summary>The peak-memory figure of the per-step metrics, measured where the model lives.</summary>
public static class PeakMemory
{
    /// <summary>
    /// On cuda: the CUDA caching allocator's peak of bytes held by tensors on the model's GPU (what
    /// torch.cuda.max_memory_allocated reports; the process RSS says nothing about GPU memory).
    /// Elsewhere, or with a shim built without CUDA: the process's peak resident set size.
    /// </summary>
    public static (long Bytes, bool OnGpu) Measure(Device device)
    {
        if (device.IsCuda && torch.cuda.has_memory_stats())
            return (torch.cuda.max_memory_allocated(device.Index), true);
        return (ProcessMemory.PeakResidentBytes(), false);
    }
}
