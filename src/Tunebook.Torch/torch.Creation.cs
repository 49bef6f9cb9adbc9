using System.Runtime.InteropServices;
using Tunebook.Torch.Interop;

namespace Tunebook.Torch;

public static partial class torch
{
    // dtype aliases, as in PyTorch: torch.float32, torch.bfloat16, ...
    public const ScalarType float32 = ScalarType.Float32, float16 = ScalarType.Float16, bfloat16 = ScalarType.BFloat16,
        float64 = ScalarType.Float64, int64 = ScalarType.Int64, int32 = ScalarType.Int32, int16 = ScalarType.Int16,
        int8 = ScalarType.Int8, uint8 = ScalarType.UInt8, @bool = ScalarType.Bool;

    static long[] CheckShape(long[] shape, string operation)
    {
        ArgumentNullException.ThrowIfNull(shape, nameof(shape));
        for (int k = 0; k < shape.Length; k++)
            if (shape[k] < 0) throw new ArgumentException($"{operation}: size {shape[k]} in dimension {k} of shape {Tensor.ShapeString(shape)} is negative");
        return shape;
    }

    static Tensor Finish(Tensor t, bool requiresGrad)
    {
        // at:: factories reject requires_grad in TensorOptions; set it on the result instead.
        if (requiresGrad) t.requires_grad_(true);
        return t;
    }

    /// <summary>A tensor of zeros.</summary>
    public static Tensor zeros(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false) =>
        Finish(Aten.Zeros.Call(CheckShape(shape, "zeros"), dtype, OpArg.None, device ?? Device.CPU), requires_grad);
    /// <summary>A float32 CPU tensor of zeros.</summary>
    public static Tensor zeros(params long[] shape) => zeros(shape, ScalarType.Float32);

    /// <summary>A tensor of ones.</summary>
    public static Tensor ones(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false) =>
        Finish(Aten.Ones.Call(CheckShape(shape, "ones"), dtype, OpArg.None, device ?? Device.CPU), requires_grad);
    public static Tensor ones(params long[] shape) => ones(shape, ScalarType.Float32);

    /// <summary>Uninitialized memory.</summary>
    public static Tensor empty(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false) =>
        Finish(Aten.Empty_memory_format.Call(CheckShape(shape, "empty"), dtype, OpArg.None, device ?? Device.CPU), requires_grad);

    /// <summary>A tensor filled with one value.</summary>
    public static Tensor full(long[] shape, double value, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false) =>
        Finish(Aten.Full.Call(CheckShape(shape, "full"), ScalarArg(value, dtype), dtype, OpArg.None, device ?? Device.CPU), requires_grad);

    internal static OpArg ScalarArg(double value, ScalarType dtype) =>
        dtype == ScalarType.Bool ? OpArg.Bool(value != 0) : dtype.IsFloatingPoint() ? OpArg.Double(value) : OpArg.Int((long)value);

    /// <summary>Values start, start+step, ... below end (int64 when all arguments are integers, as in PyTorch).</summary>
    public static Tensor arange(long start, long end, long step = 1, ScalarType dtype = ScalarType.Int64, Device? device = null)
    {
        if (step == 0) throw new ArgumentException("arange: step must be nonzero");
        return Aten.Arange_start_step.Call(start, end, step, dtype, OpArg.None, device ?? Device.CPU);
    }
    public static Tensor arange(long end, ScalarType dtype = ScalarType.Int64, Device? device = null) => arange(0, end, 1, dtype, device);

    /// <summary>Floating-point range.</summary>
    public static Tensor arange(double start, double end, double step = 1.0, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        if (step == 0) throw new ArgumentException("arange: step must be nonzero");
        return Aten.Arange_start_step.Call(start, end, step, dtype, OpArg.None, device ?? Device.CPU);
    }

    /// <summary>Evenly spaced values.</summary>
    public static Tensor linspace(double start, double end, long steps, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        Aten.Linspace.Call(start, end, steps, dtype, OpArg.None, device ?? Device.CPU);

    /// <summary>Identity matrix.</summary>
    public static Tensor eye(long n, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        Aten.Eye.Call(n, dtype, OpArg.None, device ?? Device.CPU);

    /// <summary>Uniform samples in [0, 1).</summary>
    public static Tensor rand(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false) =>
        Finish(Aten.Rand.Call(CheckShape(shape, "rand"), dtype, OpArg.None, device ?? Device.CPU), requires_grad);
    public static Tensor rand(params long[] shape) => rand(shape, ScalarType.Float32);

    /// <summary>Standard normal samples.</summary>
    public static Tensor randn(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false) =>
        Finish(Aten.Randn.Call(CheckShape(shape, "randn"), dtype, OpArg.None, device ?? Device.CPU), requires_grad);
    public static Tensor randn(params long[] shape) => randn(shape, ScalarType.Float32);

    /// <summary>Uniform integers in [low, high).</summary>
    public static Tensor randint(long low, long high, long[] shape, ScalarType dtype = ScalarType.Int64, Device? device = null)
    {
        if (high <= low) throw new ArgumentException($"randint: expected low < high, got low={low}, high={high}");
        return Aten.Randint_low.Call(low, high, CheckShape(shape, "randint"), dtype, OpArg.None, device ?? Device.CPU);
    }
    public static Tensor randint(long high, long[] shape, ScalarType dtype = ScalarType.Int64, Device? device = null) => randint(0, high, shape, dtype, device);

    public static Tensor zeros_like(Tensor t, ScalarType? dtype = null) => Aten.ZerosLike.Call(t, OpArg.OptDType(dtype));
    public static Tensor ones_like(Tensor t, ScalarType? dtype = null) => Aten.OnesLike.Call(t, OpArg.OptDType(dtype));
    public static Tensor empty_like(Tensor t, ScalarType? dtype = null) => Aten.EmptyLike.Call(t, OpArg.OptDType(dtype));
    public static Tensor full_like(Tensor t, double value, ScalarType? dtype = null) => Aten.FullLike.Call(t, value, OpArg.OptDType(dtype));
    public static Tensor rand_like(Tensor t) => Aten.RandLike.Call(t);
    public static Tensor randn_like(Tensor t) => Aten.RandnLike.Call(t);

    // ---- from host memory ------------------------------------------------------------------------

    /// <summary>Copies host data into a new tensor of the given shape (the element type follows T).</summary>
    public static unsafe Tensor tensor<T>(ReadOnlySpan<T> data, long[] shape, ScalarType? dtype = null, Device? device = null, bool requires_grad = false)
        where T : unmanaged
    {
        var own = DTypeOf<T>();
        CheckShape(shape, "tensor");
        long numel = 1;
        foreach (var s in shape) numel *= s;
        if (numel != data.Length)
            throw new ArgumentException($"tensor: {data.Length} values do not fill shape {Tensor.ShapeString(shape)} ({numel} elements)");
        var dev = device ?? Device.CPU;
        Tensor t;
        fixed (T* p = data)
        fixed (long* sp = shape)
            t = Tensor.Wrap(NativeMethods.tb_tensor_from_host(p, (long)data.Length * sizeof(T), sp, shape.Length, (int)own, (int)dev.Type, dev.Index), "tensor");
        if (dtype is { } d && d != own)
        {
            var converted = t.to(d);
            t.Dispose();
            t = converted;
        }
        return Finish(t, requires_grad);
    }

    public static Tensor tensor(float[] data, long[] shape, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) => tensor<float>(data, shape, dtype, device, requires_grad);
    public static Tensor tensor(double[] data, long[] shape, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) => tensor<double>(data, shape, dtype, device, requires_grad);
    public static Tensor tensor(long[] data, long[] shape, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) => tensor<long>(data, shape, dtype, device, requires_grad);
    public static Tensor tensor(int[] data, long[] shape, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) => tensor<int>(data, shape, dtype, device, requires_grad);
    public static Tensor tensor(byte[] data, long[] shape, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) => tensor<byte>(data, shape, dtype, device, requires_grad);
    public static Tensor tensor(bool[] data, long[] shape, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) => tensor<bool>(data, shape, dtype, device, requires_grad);
    public static Tensor tensor(Half[] data, long[] shape, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) => tensor<Half>(data, shape, dtype, device, requires_grad);

    /// <summary>1-D tensors from arrays.</summary>
    public static Tensor tensor(float[] data, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) => tensor<float>(data, [data.Length], dtype, device, requires_grad);
    public static Tensor tensor(double[] data, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) => tensor<double>(data, [data.Length], dtype, device, requires_grad);
    public static Tensor tensor(long[] data, ScalarType? dtype = null, Device? device = null) => tensor<long>(data, [data.Length], dtype, device);
    public static Tensor tensor(int[] data, ScalarType? dtype = null, Device? device = null) => tensor<int>(data, [data.Length], dtype, device);
    public static Tensor tensor(bool[] data, Device? device = null) => tensor<bool>(data, [data.Length], null, device);

    /// <summary>0-dim tensors from a number.</summary>
    public static Tensor tensor(float value, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) => tensor<float>([value], [], dtype, device, requires_grad);
    public static Tensor tensor(double value, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) => tensor<double>([value], [], dtype, device, requires_grad);
    public static Tensor tensor(long value, ScalarType? dtype = null, Device? device = null) => tensor<long>([value], [], dtype, device);

    /// <summary>2-D tensor from a rectangular array.</summary>
    public static Tensor tensor(float[,] data, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        tensor<float>(MemoryMarshal.CreateReadOnlySpan(ref data[0, 0], data.Length), [data.GetLength(0), data.GetLength(1)], dtype, device, requires_grad);

    /// <summary>
    /// Copies raw little-endian bytes into a new CPU tensor of <paramref name="dtype"/> and
    /// <paramref name="shape"/>; the byte count must equal numel × element size.
    /// </summary>
    public static unsafe Tensor frombuffer(ReadOnlySpan<byte> bytes, ScalarType dtype, long[] shape)
    {
        CheckShape(shape, "frombuffer");
        long numel = 1;
        foreach (var s in shape) numel *= s;
        if (numel * dtype.ElementSize() != bytes.Length)
            throw new ArgumentException($"frombuffer: {bytes.Length} bytes do not match shape {Tensor.ShapeString(shape)} of {dtype.Name()} ({numel * dtype.ElementSize()} bytes)");
        fixed (byte* p = bytes)
            return from_pointer((IntPtr)p, bytes.Length, dtype, shape);
    }

    /// <summary>
    /// Copies <paramref name="nbytes"/> bytes at <paramref name="data"/> (e.g. a memory-mapped file) into a new tensor.
    /// The byte count is checked against shape and dtype, but the pointer cannot be: it must point at
    /// readable memory of that size, as with any unsafe code.
    /// </summary>
    public static unsafe Tensor from_pointer(IntPtr data, long nbytes, ScalarType dtype, long[] shape, Device? device = null)
    {
        CheckShape(shape, "from_pointer");
        EnsureInitialized();
        var dev = device ?? Device.CPU;
        fixed (long* sp = shape)
            return Tensor.Wrap(NativeMethods.tb_tensor_from_host((void*)data, nbytes, sp, shape.Length, (int)dtype, (int)dev.Type, dev.Index), "from_pointer");
    }

    internal static ScalarType DTypeOf<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return ScalarType.Float32;
        if (typeof(T) == typeof(double)) return ScalarType.Float64;
        if (typeof(T) == typeof(long)) return ScalarType.Int64;
        if (typeof(T) == typeof(int)) return ScalarType.Int32;
        if (typeof(T) == typeof(short)) return ScalarType.Int16;
        if (typeof(T) == typeof(sbyte)) return ScalarType.Int8;
        if (typeof(T) == typeof(byte)) return ScalarType.UInt8;
        if (typeof(T) == typeof(bool)) return ScalarType.Bool;
        if (typeof(T) == typeof(Half)) return ScalarType.Float16;
        throw new ArgumentException($"no tensor dtype for {typeof(T).Name}; use float, double, long, int, short, sbyte, byte, bool or Half (raw bytes: torch.frombuffer)");
    }
}
