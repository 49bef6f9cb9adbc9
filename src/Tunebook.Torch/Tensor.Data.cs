using System.Runtime.InteropServices;
using Tunebook.Torch.Interop;

namespace Tunebook.Torch;

// Moving data between tensors and host memory; dtype and device conversion.
public partial class Tensor
{
    /// <summary>The single element as T (converted from the tensor's dtype).</summary>
    public unsafe T item<T>() where T : unmanaged
    {
        var h = Handle;
        if (typeof(T) == typeof(long) || typeof(T) == typeof(int) || typeof(T) == typeof(short) || typeof(T) == typeof(byte) || typeof(T) == typeof(sbyte))
        {
            long v;
            TorchException.Check(NativeMethods.tb_tensor_item_int64(h, &v), "item");
            if (typeof(T) == typeof(long)) return (T)(object)v;
            if (typeof(T) == typeof(int)) return (T)(object)checked((int)v);
            if (typeof(T) == typeof(short)) return (T)(object)checked((short)v);
            if (typeof(T) == typeof(byte)) return (T)(object)checked((byte)v);
            return (T)(object)checked((sbyte)v);
        }
        double d;
        TorchException.Check(NativeMethods.tb_tensor_item_double(h, &d), "item");
        if (typeof(T) == typeof(double)) return (T)(object)d;
        if (typeof(T) == typeof(float)) return (T)(object)(float)d;
        if (typeof(T) == typeof(Half)) return (T)(object)(Half)d;
        if (typeof(T) == typeof(bool)) return (T)(object)(d != 0);
        throw new ArgumentException($"item<{typeof(T).Name}>: unsupported element type");
    }

    /// <summary>Copies all elements (row-major) into a new array; T must match the dtype.</summary>
    public T[] data<T>() where T : unmanaged
    {
        CheckElementType<T>("data");
        var result = new T[numel()];
        CopyTo<T>(result);
        return result;
    }

    /// <summary>Copies all elements (row-major) into <paramref name="destination"/>; T must match the dtype and the length the element count.</summary>
    public unsafe void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        CheckElementType<T>("CopyTo");
        fixed (T* p = destination)
            TorchException.Check(NativeMethods.tb_tensor_copy_to_host(Handle, p, (long)destination.Length * sizeof(T)), "CopyTo");
    }

    /// <summary>Copies the raw little-endian bytes (row-major) into <paramref name="destination"/>, whose length must be <see cref="NumBytes"/>.</summary>
    public unsafe void CopyToBytes(Span<byte> destination)
    {
        fixed (byte* p = destination)
            TorchException.Check(NativeMethods.tb_tensor_copy_to_host(Handle, p, destination.Length), "CopyToBytes");
    }

    /// <summary>The raw little-endian bytes (row-major) as a new array.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[NumBytes];
        CopyToBytes(bytes);
        return bytes;
    }

    /// <summary>Overwrites the elements in place from raw bytes (length must be <see cref="NumBytes"/>); works on any device.</summary>
    public unsafe Tensor CopyFromBytes(ReadOnlySpan<byte> source)
    {
        fixed (byte* p = source)
            TorchException.Check(NativeMethods.tb_tensor_copy_from_host(Handle, p, source.Length), "CopyFromBytes");
        return this;
    }

    /// <summary>Overwrites the elements in place from host values; T must match the dtype.</summary>
    public unsafe Tensor CopyFrom<T>(ReadOnlySpan<T> source) where T : unmanaged
    {
        CheckElementType<T>("CopyFrom");
        return CopyFromBytes(MemoryMarshal.AsBytes(source));
    }

    void CheckElementType<T>(string operation) where T : unmanaged
    {
        var expected = torch.DTypeOf<T>();
        var actual = dtype;
        if (expected != actual)
            throw new ArgumentException($"{operation}<{typeof(T).Name}>: the tensor holds {actual.Name()}, not {expected.Name()}; convert with .to(ScalarType.{expected}) first or use the matching element type");
    }

    // ---- conversion ----------------------------------------------------------------------------

    /// <summary>This tensor converted to another dtype (itself, as a new handle, when already that dtype).</summary>
    public Tensor to(ScalarType dtype, bool copy = false) => Aten.To_dtype.Call(this, dtype, false, copy);

    /// <summary>This tensor on another device.</summary>
    public Tensor to(Device device, bool copy = false) => Aten.To_dtype_layout.Call(this, OpArg.None, OpArg.None, device, OpArg.None, false, copy);

    /// <summary>This tensor on another device and dtype.</summary>
    public Tensor to(Device device, ScalarType dtype, bool copy = false) => Aten.To_dtype_layout.Call(this, dtype, OpArg.None, device, OpArg.None, false, copy);

    /// <summary>Same dtype and device as <paramref name="other"/>.</summary>
    public Tensor to(Tensor other) => to(other.device, other.dtype);

    public Tensor cpu() => to(Device.CPU);
    public Tensor cuda(int index = -1) => to(new Device(DeviceType.CUDA, index));
    public Tensor @float() => to(ScalarType.Float32);
    public Tensor @double() => to(ScalarType.Float64);
    public Tensor half() => to(ScalarType.Float16);
    public Tensor bfloat16() => to(ScalarType.BFloat16);
    public Tensor @long() => to(ScalarType.Int64);
    public Tensor @int() => to(ScalarType.Int32);
    public Tensor @bool() => to(ScalarType.Bool);
}
