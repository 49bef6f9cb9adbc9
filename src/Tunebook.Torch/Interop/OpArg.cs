using Tunebook.Torch.Interop;

namespace Tunebook.Torch;

/// <summary>
/// One argument for a dispatcher call (<see cref="Op"/>). Implicit conversions cover the usual
/// cases: Tensor, long/int, double, bool, long[], double[], Tensor[], ScalarType, Device, string;
/// <see cref="None"/> passes None and <see cref="Default"/> the schema's default.
/// </summary>
public readonly struct OpArg
{
    internal readonly int Kind;
    internal readonly long I;
    internal readonly double D;
    internal readonly object? Obj;

    OpArg(int kind, long i = 0, double d = 0, object? obj = null) { Kind = kind; I = i; D = d; Obj = obj; }

    public static readonly OpArg None = new(TbKind.None);
    public static readonly OpArg Default = new(TbKind.Default);

    public static OpArg Int(long v) => new(TbKind.Int, i: v);
    public static OpArg Double(double v) => new(TbKind.Double, d: v);
    /// <summary>
    /// An alpha multiplier: a whole number goes as an integer Scalar, because ATen refuses a
    /// floating alpha for integer tensors; for floating tensors both forms give the same value.
    /// </summary>
    public static OpArg Alpha(double v) =>
        double.IsFinite(v) && Math.Floor(v) == v && Math.Abs(v) < 9007199254740992.0 ? Int((long)v) : Double(v);
    public static OpArg Bool(bool v) => new(TbKind.Bool, i: v ? 1 : 0);
    public static OpArg Ints(params long[] v) => new(TbKind.IntList, obj: v);
    public static OpArg Doubles(params double[] v) => new(TbKind.DoubleList, obj: v);
    public static OpArg Bools(params bool[] v) => new(TbKind.BoolList, obj: v);
    public static OpArg DType(ScalarType t) => new(TbKind.DType, i: (long)t);
    public static OpArg Dev(Device d) => new(TbKind.Device, i: (long)d.Type, obj: d.Index);
    public static OpArg Str(string s) => new(TbKind.String, obj: s);
    /// <summary>A tensor, or None when <paramref name="t"/> is null (for Tensor? parameters).</summary>
    public static OpArg T(Tensor? t) => t is null ? None : new(TbKind.Tensor, obj: t);
    public static OpArg Tensors(Tensor[] ts) => new(TbKind.TensorList, obj: ts);
    /// <summary>A Tensor?[] list (for index / index_put): null entries are None.</summary>
    public static OpArg OptionalTensors(Tensor?[] ts) => new(TbKind.OptTensorList, obj: ts);
    public static OpArg OptInt(long? v) => v is { } x ? Int(x) : None;
    public static OpArg OptDouble(double? v) => v is { } x ? Double(x) : None;
    public static OpArg OptDType(ScalarType? v) => v is { } x ? DType(x) : None;

    public static implicit operator OpArg(Tensor? t) => T(t);
    public static implicit operator OpArg(long v) => Int(v);
    public static implicit operator OpArg(int v) => Int(v);
    public static implicit operator OpArg(double v) => Double(v);
    public static implicit operator OpArg(bool v) => Bool(v);
    public static implicit operator OpArg(long[] v) => Ints(v);
    public static implicit operator OpArg(double[] v) => Doubles(v);
    public static implicit operator OpArg(Tensor[] v) => Tensors(v);
    public static implicit operator OpArg(ScalarType v) => DType(v);
    public static implicit operator OpArg(Device v) => Dev(v);
    public static implicit operator OpArg(string v) => Str(v);

    /// <summary>Scratch space (in 8-byte words) this argument needs while the call runs.</summary>
    internal int ScratchWords => Obj switch
    {
        long[] a => a.Length,
        double[] a => a.Length,
        bool[] a => (a.Length + 7) / 8,
        Tensor?[] a => a.Length,
        string s => (System.Text.Encoding.UTF8.GetMaxByteCount(s.Length) + 7) / 8,
        _ => 0,
    };

    /// <summary>Fills the native value; list contents go to <paramref name="scratch"/> (already pinned).</summary>
    internal unsafe TbValue ToNative(ref long* scratch, string opName, int position)
    {
        var v = new TbValue { Kind = Kind, I = I, D = D };
        switch (Obj)
        {
            case Tensor t:
                v.P = t.HandleFor(opName, position);
                break;
            case long[] a:
                for (int k = 0; k < a.Length; k++) scratch[k] = a[k];
                v.P = (IntPtr)scratch; v.N = a.Length; scratch += a.Length;
                break;
            case double[] a:
                var dp = (double*)scratch;
                for (int k = 0; k < a.Length; k++) dp[k] = a[k];
                v.P = (IntPtr)scratch; v.N = a.Length; scratch += a.Length;
                break;
            case bool[] a:
                var bp = (byte*)scratch;
                for (int k = 0; k < a.Length; k++) bp[k] = a[k] ? (byte)1 : (byte)0;
                v.P = (IntPtr)scratch; v.N = a.Length; scratch += (a.Length + 7) / 8;
                break;
            case Tensor?[] a:
                var pp = (IntPtr*)scratch;
                for (int k = 0; k < a.Length; k++)
                {
                    if (a[k] is { } e) pp[k] = e.HandleFor(opName, position);
                    else if (Kind == TbKind.TensorList) throw new ArgumentNullException($"{opName}: argument {position} element {k} is null; expected a tensor");
                    else pp[k] = IntPtr.Zero;
                }
                v.P = (IntPtr)scratch; v.N = a.Length; scratch += a.Length;
                break;
            case string s:
                int n = System.Text.Encoding.UTF8.GetBytes(s, new Span<byte>(scratch, ScratchWords * 8));
                v.P = (IntPtr)scratch; v.N = n; scratch += (n + 7) / 8;
                break;
            case int deviceIndex:
                v.N = deviceIndex;
                break;
        }
        return v;
    }
}
