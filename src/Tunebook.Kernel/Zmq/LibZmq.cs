using System.Runtime.InteropServices;

namespace Tunebook.Kernel.Zmq;

/// <summary>
/// The few libzmq (ZeroMQ 4) entry points the kernel needs, bound to Debian's libzmq.so.5.
/// Messages are sent and received as whole frames through zmq_msg_t, so frame sizes are unbounded.
/// </summary>
public static unsafe partial class LibZmq
{
    const string Lib = "libzmq.so.5";

    public const int PUB = 1, SUB = 2, REQ = 3, REP = 4, DEALER = 5, ROUTER = 6, PAIR = 0;
    public const int SNDMORE = 2, DONTWAIT = 1;
    public const int IDENTITY = 5, SUBSCRIBE = 6, RCVMORE = 13, LINGER = 17, RCVTIMEO = 27, SNDTIMEO = 28,
                     LAST_ENDPOINT = 32, ROUTER_HANDOVER = 56, SNDHWM = 23, RCVHWM = 24;
    public const short POLLIN = 1;
    public const int EAGAIN = 11, EINTR = 4, ETERM = 156384712 + 53;

    /// <summary>zmq_msg_t is an opaque 64-byte, 8-aligned block.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 64)]
    public struct Msg { long _a, _b, _c, _d, _e, _f, _g, _h; }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollItem
    {
        public IntPtr Socket;
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport(Lib, EntryPoint = "zmq_ctx_new")] public static partial IntPtr CtxNew();
    [LibraryImport(Lib, EntryPoint = "zmq_ctx_term")] public static partial int CtxTerm(IntPtr context);
    [LibraryImport(Lib, EntryPoint = "zmq_ctx_shutdown")] public static partial int CtxShutdown(IntPtr context);
    [LibraryImport(Lib, EntryPoint = "zmq_socket")] public static partial IntPtr Socket(IntPtr context, int type);
    [LibraryImport(Lib, EntryPoint = "zmq_close")] public static partial int Close(IntPtr socket);
    [LibraryImport(Lib, EntryPoint = "zmq_bind", StringMarshalling = StringMarshalling.Utf8)] public static partial int Bind(IntPtr socket, string endpoint);
    [LibraryImport(Lib, EntryPoint = "zmq_connect", StringMarshalling = StringMarshalling.Utf8)] public static partial int Connect(IntPtr socket, string endpoint);
    [LibraryImport(Lib, EntryPoint = "zmq_setsockopt")] public static partial int SetSockOpt(IntPtr socket, int option, void* value, nuint size);
    [LibraryImport(Lib, EntryPoint = "zmq_getsockopt")] public static partial int GetSockOpt(IntPtr socket, int option, void* value, nuint* size);
    [LibraryImport(Lib, EntryPoint = "zmq_send")] public static partial int Send(IntPtr socket, void* buffer, nuint length, int flags);
    [LibraryImport(Lib, EntryPoint = "zmq_msg_init")] public static partial int MsgInit(Msg* msg);
    [LibraryImport(Lib, EntryPoint = "zmq_msg_recv")] public static partial int MsgRecv(Msg* msg, IntPtr socket, int flags);
    [LibraryImport(Lib, EntryPoint = "zmq_msg_data")] public static partial void* MsgData(Msg* msg);
    [LibraryImport(Lib, EntryPoint = "zmq_msg_size")] public static partial nuint MsgSize(Msg* msg);
    [LibraryImport(Lib, EntryPoint = "zmq_msg_more")] public static partial int MsgMore(Msg* msg);
    [LibraryImport(Lib, EntryPoint = "zmq_msg_close")] public static partial int MsgClose(Msg* msg);
    [LibraryImport(Lib, EntryPoint = "zmq_poll")] public static partial int Poll(PollItem* items, int count, long timeoutMs);
    [LibraryImport(Lib, EntryPoint = "zmq_proxy")] public static partial int Proxy(IntPtr frontend, IntPtr backend, IntPtr capture);
    [LibraryImport(Lib, EntryPoint = "zmq_errno")] public static partial int Errno();
    [LibraryImport(Lib, EntryPoint = "zmq_strerror")] public static partial IntPtr StrError(int errnum);

    public static string ErrorText(int errnum) => Marshal.PtrToStringUTF8(StrError(errnum)) ?? $"errno {errnum}";
}

/// <summary>A failed ZeroMQ call, with libzmq's own error text.</summary>
public sealed class ZmqException(string what, int errno) : Exception($"{what}: {LibZmq.ErrorText(errno)}")
{
    public int Errno { get; } = errno;
}
