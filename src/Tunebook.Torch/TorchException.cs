using Tunebook.Torch.Interop;

namespace Tunebook.Torch;

/// <summary>An error reported by libtorch (or by the shim's argument checks), carrying libtorch's message.</summary>
public sealed class TorchException : Exception
{
    public TorchException(string message) : base(message) { }

    /// <summary>Throws with the shim's last error, prefixed by what was being done.</summary>
    internal static TorchException FromNative(string operation)
    {
        var message = NativeMethods.LastError();
        return new TorchException(string.IsNullOrEmpty(operation) ? message : $"{operation}: {message}");
    }

    internal static void Check(int rc, string operation)
    {
        if (rc < 0) throw FromNative(operation);
    }
}
