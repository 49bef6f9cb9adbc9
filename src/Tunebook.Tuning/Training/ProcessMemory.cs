using System.Diagnostics;

namespace Tunebook.Tuning.Training;

/// <summary>Peak memory of this process, for the per-step metrics.</summary>
public static class ProcessMemory
{
    /// <summary>
    /// Peak resident set size in bytes: VmHWM from /proc/self/status on Linux (what the kernel measured,
    /// native allocations by libtorch included), else the runtime's peak working set.
    /// </summary>
    public static long PeakResidentBytes()
    {
        try
        {
            if (OperatingSystem.IsLinux())
                foreach (var line in File.ReadLines("/proc/self/status"))
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    {
                        var parts = line[6..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        return long.Parse(parts[0]) * 1024;
                    }
        }
        catch (IOException) { }
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }
}
