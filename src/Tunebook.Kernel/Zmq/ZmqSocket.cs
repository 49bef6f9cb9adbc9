using System.Runtime.InteropServices;
using System.Text;

namespace Tunebook.Kernel.Zmq;

/// <summary>A ZeroMQ context: owns the I/O threads every socket of one kernel shares.</summary>
public sealed class ZmqContext : IDisposable
{
    public IntPtr Handle { get; private set; } = LibZmq.CtxNew();

    public ZmqSocket CreateSocket(int type) => new(this, type);

    /// <summary>Makes every blocking call on every socket return ETERM, so socket threads can end.</summary>
    public void Shutdown() { if (Handle != IntPtr.Zero) LibZmq.CtxShutdown(Handle); }

    public void Dispose()
    {
        if (Handle == IntPtr.Zero) return;
        LibZmq.CtxTerm(Handle);
        Handle = IntPtr.Zero;
    }
}

/// <summary>
/// One ZeroMQ socket. Like libzmq's own sockets it is not thread-safe: exactly one thread uses it
/// (the kernel gives each socket a thread of its own and hands it work through queues).
/// </summary>
public sealed unsafe class ZmqSocket : IDisposable
{
    public IntPtr Handle { get; private set; }

    internal ZmqSocket(ZmqContext context, int type)
    {
        Handle = LibZmq.Socket(context.Handle, type);
        if (Handle == IntPtr.Zero) throw new ZmqException("zmq_socket", LibZmq.Errno());
        SetOption(LibZmq.LINGER, 0);
    }

    public void SetOption(int option, int value)
    {
        if (LibZmq.SetSockOpt(Handle, option, &value, sizeof(int)) != 0)
            throw new ZmqException($"zmq_setsockopt({option})", LibZmq.Errno());
    }

    public void SetOption(int option, byte[] value)
    {
        fixed (byte* p = value)
            if (LibZmq.SetSockOpt(Handle, option, p, (nuint)value.Length) != 0)
                throw new ZmqException($"zmq_setsockopt({option})", LibZmq.Errno());
    }

    public void Bind(string endpoint)
    {
        if (LibZmq.Bind(Handle, endpoint) != 0) throw new ZmqException($"cannot bind {endpoint}", LibZmq.Errno());
    }

    public void Connect(string endpoint)
    {
        if (LibZmq.Connect(Handle, endpoint) != 0) throw new ZmqException($"cannot connect {endpoint}", LibZmq.Errno());
    }

    /// <summary>The endpoint actually bound (useful after binding port 0 or "*").</summary>
    public string LastEndpoint
    {
        get
        {
            var buffer = new byte[256];
            nuint size = (nuint)buffer.Length;
            fixed (byte* p = buffer)
                if (LibZmq.GetSockOpt(Handle, LibZmq.LAST_ENDPOINT, p, &size) != 0)
                    throw new ZmqException("zmq_getsockopt(LAST_ENDPOINT)", LibZmq.Errno());
            return Encoding.UTF8.GetString(buffer, 0, Math.Max(0, (int)size - 1));
        }
    }

    /// <summary>Sends all frames as one multipart message. Returns false when the context is shutting down.</summary>
    public bool SendFrames(IReadOnlyList<byte[]> frames)
    {
        for (int i = 0; i < frames.Count; i++)
        {
            int flags = i < frames.Count - 1 ? LibZmq.SNDMORE : 0;
            var frame = frames[i];
            while (true)
            {
                int rc;
                fixed (byte* p = frame) rc = LibZmq.Send(Handle, p, (nuint)frame.Length, flags);
                if (rc >= 0) break;
                int errno = LibZmq.Errno();
                if (errno == LibZmq.EINTR) continue;
                if (errno == LibZmq.ETERM) return false;
                throw new ZmqException("zmq_send", errno);
            }
        }
        return true;
    }

    /// <summary>
    /// Receives one whole multipart message. With <paramref name="dontWait"/> returns null when none is queued;
    /// also returns null once the context is shutting down.
    /// </summary>
    public List<byte[]>? ReceiveFrames(bool dontWait = false)
    {
        var frames = new List<byte[]>();
        LibZmq.Msg msg;
        while (true)
        {
            LibZmq.MsgInit(&msg);
            int rc = LibZmq.MsgRecv(&msg, Handle, dontWait && frames.Count == 0 ? LibZmq.DONTWAIT : 0);
            if (rc < 0)
            {
                int errno = LibZmq.Errno();
                LibZmq.MsgClose(&msg);
                if (errno == LibZmq.EINTR) continue;
                if (errno == LibZmq.EAGAIN || errno == LibZmq.ETERM) return null;
                throw new ZmqException("zmq_msg_recv", errno);
            }
            var frame = new byte[(int)LibZmq.MsgSize(&msg)];
            if (frame.Length > 0) Marshal.Copy((IntPtr)LibZmq.MsgData(&msg), frame, 0, frame.Length);
            bool more = LibZmq.MsgMore(&msg) != 0;
            LibZmq.MsgClose(&msg);
            frames.Add(frame);
            if (!more) return frames;
        }
    }

    /// <summary>Waits until this socket has a message or <paramref name="wakeFd"/> is readable. Returns (socketReady, fdReady).</summary>
    public (bool Socket, bool Fd) Poll(int wakeFd, long timeoutMs)
    {
        var items = stackalloc LibZmq.PollItem[2];
        items[0] = new LibZmq.PollItem { Socket = Handle, Events = LibZmq.POLLIN };
        items[1] = new LibZmq.PollItem { Socket = IntPtr.Zero, Fd = wakeFd, Events = LibZmq.POLLIN };
        int count = wakeFd >= 0 ? 2 : 1;
        int rc = LibZmq.Poll(items, count, timeoutMs);
        if (rc < 0)
        {
            int errno = LibZmq.Errno();
            if (errno == LibZmq.EINTR) return (false, false);
            if (errno == LibZmq.ETERM) throw new ObjectDisposedException("ZeroMQ context terminated");
            throw new ZmqException("zmq_poll", errno);
        }
        return ((items[0].Revents & LibZmq.POLLIN) != 0, count == 2 && (items[1].Revents & LibZmq.POLLIN) != 0);
    }

    public void Dispose()
    {
        if (Handle == IntPtr.Zero) return;
        LibZmq.Close(Handle);
        Handle = IntPtr.Zero;
    }
}

/// <summary>
/// A Linux eventfd: lets any thread wake a socket thread that sits in zmq_poll, without touching the
/// socket itself (ZeroMQ sockets must stay on one thread).
/// </summary>
public sealed partial class Wakeup : IDisposable
{
    const int EFD_NONBLOCK = 0x800, EFD_CLOEXEC = 0x80000;
    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)] private static partial int EventFd(uint initial, int flags);
    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)] private static unsafe partial nint Write(int fd, void* buffer, nuint count);
    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)] private static unsafe partial nint Read(int fd, void* buffer, nuint count);
    [LibraryImport("libc", EntryPoint = "close")] private static partial int CloseFd(int fd);

    public int Fd { get; }

    public Wakeup()
    {
        Fd = EventFd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (Fd < 0) throw new InvalidOperationException($"eventfd failed (errno {Marshal.GetLastPInvokeError()})");
    }

    public unsafe void Signal() { ulong one = 1; Write(Fd, &one, 8); }

    public unsafe void Reset() { ulong value; Read(Fd, &value, 8); }

    public void Dispose() => CloseFd(Fd);
}
