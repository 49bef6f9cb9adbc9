using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Tunebook.Kernel.Server;

/// <summary>
/// Sends what native code and child processes write to the process's file descriptor 1 or 2 (libtorch
/// warnings, printf, a subprocess started from a cell) into the notebook, as ipykernel does: the
/// descriptor is replaced by a pipe whose reading end a thread forwards to the cell's stream writer.
/// .NET's Console is redirected separately; this is only for output that bypasses it.
/// </summary>
sealed unsafe partial class NativeOutputCapture : IDisposable
{
    [LibraryImport("libc", EntryPoint = "pipe", SetLastError = true)] private static partial int Pipe(int* fds);
    [LibraryImport("libc", EntryPoint = "dup", SetLastError = true)] private static partial int Dup(int fd);
    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)] private static partial int Dup2(int from, int to);
    [LibraryImport("libc", EntryPoint = "close")] private static partial int Close(int fd);
    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)] private static partial int Ioctl(int fd, nuint request, int* value);
    const nuint FIONREAD = 0x541B;

    readonly int _fd, _saved, _readEnd;
    readonly Thread _thread;
    readonly TextWriter _target;
    volatile bool _forwarding;

    NativeOutputCapture(int fd, int saved, int readEnd, TextWriter target)
    {
        _fd = fd; _saved = saved; _readEnd = readEnd; _target = target;
        _thread = new Thread(Forward) { IsBackground = true, Name = $"kernel-fd{fd}" };
        _thread.Start();
    }

    /// <summary>Replaces <paramref name="fd"/> with a pipe forwarded to <paramref name="target"/>; null when the system refuses.</summary>
    public static NativeOutputCapture? Start(int fd, TextWriter target)
    {
        int* fds = stackalloc int[2];
        if (Pipe(fds) != 0) return null;
        int saved = Dup(fd);
        if (saved < 0 || Dup2(fds[1], fd) < 0) { Close(fds[0]); Close(fds[1]); if (saved >= 0) Close(saved); return null; }
        Close(fds[1]);
        return new NativeOutputCapture(fd, saved, fds[0], target);
    }

    /// <summary>A writable stream on a duplicate of <paramref name="fd"/> taken now (the kernel's own log keeps the real stderr).</summary>
    public static Stream DuplicateForWriting(int fd)
    {
        int copy = Dup(fd);
        return copy < 0 ? Console.OpenStandardError() : new FileStream(new SafeFileHandle(copy, ownsHandle: true), FileAccess.Write, 1);
    }

    void Forward()
    {
        using var stream = new FileStream(new SafeFileHandle(_readEnd, ownsHandle: true), FileAccess.Read, 1);
        var decoder = Encoding.UTF8.GetDecoder();
        var bytes = new byte[8192];
        var chars = new char[Encoding.UTF8.GetMaxCharCount(bytes.Length)];
        try
        {
            while (true)
            {
                int n = stream.Read(bytes, 0, bytes.Length);
                if (n <= 0) return;
                _forwarding = true;
                int count = decoder.GetChars(bytes, 0, n, chars, 0);
                _target.Write(chars, 0, count);
                _forwarding = false;
            }
        }
        catch (IOException) { }
    }

    /// <summary>Waits (briefly) until what was written so far has reached the stream writer.</summary>
    public void Drain(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            int pending = 0;
            if (Ioctl(_readEnd, FIONREAD, &pending) != 0) return;
            if (pending == 0 && !_forwarding) return;
            Thread.Sleep(2);
        }
    }

    /// <summary>Puts the original descriptor back; the pipe closes and the forwarding thread ends.</summary>
    public void Dispose()
    {
        Dup2(_saved, _fd);
        Close(_saved);
        _thread.Join(TimeSpan.FromSeconds(1));
    }
}
