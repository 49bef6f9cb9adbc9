using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Tunebook.IO;

/// <summary>
/// Folder-shaped outputs (checkpoints, adapters, merged models) written as one unit: everything goes into a
/// fresh temp folder beside the destination, which then takes the destination's place in one rename
/// (renameat2 RENAME_EXCHANGE on Linux when the destination exists). A process killed at any moment leaves
/// either the previous folder or the new one under the final name, never a mix of files from both; the
/// temp folders such a kill leaves behind are removed by the next save of the same destination. The one
/// exception is a destination holding the process's working directory (`#!save adapter .`): swapping it would
/// strand the process in the deleted old folder, so there each file is renamed into place on its own.
/// Compiled into each assembly that saves folders (see the Compile links in their .csproj).
/// </summary>
internal static class AtomicFolder
{
    const string TempMarker = ".tmp-";

    /// <summary>
    /// Writes <paramref name="folder"/> through <paramref name="write"/>, which receives the temp folder to fill.
    /// Entries of the existing folder that <paramref name="carryOver"/> accepts (by name) and that the new
    /// contents do not replace are carried into the new folder as hard links (folders recreated), so files the
    /// save does not own (a run's metrics next to its adapter) survive the swap without being copied.
    /// </summary>
    public static string Replace(string folder, Action<string> write, Func<string, bool>? carryOver = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        var parent = Path.GetDirectoryName(full) ?? throw new ArgumentException($"{folder}: cannot replace a root folder", nameof(folder));
        Directory.CreateDirectory(parent);
        RemoveStaleTemps(full);
        var temp = $"{full}{TempMarker}{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";
        Directory.CreateDirectory(temp);
        try
        {
            write(temp);
            if (HoldsWorkingDirectory(full))
            {
                // Swapping the folder the process works in would leave it in the deleted old one: move file by file.
                MoveInto(temp, full, carryOver);
                TryDeleteFolder(temp);
                return full;
            }
            if (carryOver is not null && Directory.Exists(full))
                foreach (var entry in new DirectoryInfo(full).EnumerateFileSystemInfos())
                    if (carryOver(entry.Name) && !Path.Exists(Path.Combine(temp, entry.Name))) Link(entry, Path.Combine(temp, entry.Name));
            Swap(temp, full);
        }
        catch
        {
            TryDeleteFolder(temp);
            throw;
        }
        // After the swap the temp name holds the previous version (or nothing when there was none).
        TryDeleteFolder(temp);
        return full;
    }

    /// <summary>Temp folders of <paramref name="full"/> that a killed save left behind ("NAME.tmp-XXXXXXXXXXXX").</summary>
    public static IEnumerable<string> StaleTemps(string full)
    {
        var parent = Path.GetDirectoryName(full);
        if (parent is null || !Directory.Exists(parent)) return [];
        var prefix = Path.GetFileName(full) + TempMarker;
        return Directory.EnumerateDirectories(parent, prefix + "*")
            .Where(d => Path.GetFileName(d) is var n && n.Length == prefix.Length + 12 && n[prefix.Length..].All(Uri.IsHexDigit));
    }

    static void RemoveStaleTemps(string full)
    {
        foreach (var stale in StaleTemps(full)) TryDeleteFolder(stale);
    }

    static bool HoldsWorkingDirectory(string full)
    {
        var cwd = Path.TrimEndingDirectorySeparator(Environment.CurrentDirectory);
        return cwd == full || cwd.StartsWith(full + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    /// <summary>Each new file renamed over its old version; old entries <paramref name="carryOver"/> rejects are removed.</summary>
    static void MoveInto(string temp, string full, Func<string, bool>? carryOver)
    {
        Directory.CreateDirectory(full);
        foreach (var entry in new DirectoryInfo(full).EnumerateFileSystemInfos())
            if ((carryOver is null || !carryOver(entry.Name)) && !Path.Exists(Path.Combine(temp, entry.Name)))
            {
                if (entry is DirectoryInfo dir) dir.Delete(recursive: true);
                else entry.Delete();
            }
        foreach (var file in Directory.EnumerateFiles(temp, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(full, Path.GetRelativePath(temp, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Move(file, destination, overwrite: true);
        }
    }

    static void Swap(string temp, string full)
    {
        if (!Directory.Exists(full) && !File.Exists(full))
        {
            Directory.Move(temp, full);
            return;
        }
        if (File.Exists(full)) throw new IOException($"{full}: a file stands where a folder is to be saved");
        if (OperatingSystem.IsLinux() && TryExchange(temp, full)) return;
        // Without an atomic exchange: move the old folder aside (to the temp name's sibling, which the next save
        // cleans up when a kill lands in between), then rename the new one in.
        var aside = $"{temp}-old";
        Directory.Move(full, aside);
        Directory.Move(temp, full);
        Directory.Move(aside, temp);
    }

    const int AtFdCwd = -100;
    const uint RenameExchange = 2;

    [DllImport("libc", EntryPoint = "renameat2", SetLastError = true)]
    static extern int renameat2(int olddirfd, string oldpath, int newdirfd, string newpath, uint flags);

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    static extern int link(string oldpath, string newpath);

    static bool TryExchange(string a, string b)
    {
        try
        {
            if (renameat2(AtFdCwd, a, AtFdCwd, b, RenameExchange) == 0) return true;
            // EINVAL / ENOSYS: the file system or kernel has no RENAME_EXCHANGE; fall back to two renames.
            var errno = Marshal.GetLastPInvokeError();
            if (errno is 22 or 38 or 95) return false;
            throw new IOException($"{b}: could not swap in the new folder (errno {errno})");
        }
        catch (EntryPointNotFoundException) { return false; }
        catch (DllNotFoundException) { return false; }
    }

    static void Link(FileSystemInfo entry, string destination)
    {
        if (entry.LinkTarget is { } target)
        {
            if (entry is DirectoryInfo) Directory.CreateSymbolicLink(destination, target);
            else File.CreateSymbolicLink(destination, target);
            return;
        }
        if (entry is DirectoryInfo dir)
        {
            Directory.CreateDirectory(destination);
            foreach (var child in dir.EnumerateFileSystemInfos()) Link(child, Path.Combine(destination, child.Name));
            return;
        }
        // A hard link shares the bytes: nothing is copied, and the old folder stays whole until the swap.
        if (!OperatingSystem.IsWindows() && TryHardLink(entry.FullName, destination)) return;
        File.Copy(entry.FullName, destination);
    }

    static bool TryHardLink(string source, string destination)
    {
        try { return link(source, destination) == 0; }
        catch (EntryPointNotFoundException) { return false; }
        catch (DllNotFoundException) { return false; }
    }

    static void TryDeleteFolder(string path)
    {
        try { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
