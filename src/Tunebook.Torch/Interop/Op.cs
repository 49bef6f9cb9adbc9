using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Tunebook.Torch.Interop;

namespace Tunebook.Torch;

/// <summary>
/// An ATen operator called through libtorch's dispatcher by name, e.g.
/// <c>Op.Get("aten::topk").Call2(x, 5, -1, true, true)</c>. Any operator of the linked libtorch is
/// reachable without new native code; autograd works as for any other call. Missing trailing
/// arguments take the schema's defaults (see <see cref="Schema"/>).
/// </summary>
public sealed class Op
{
    static readonly ConcurrentDictionary<string, Op?> Cache = new();
    readonly IntPtr _handle;

    /// <summary>Qualified name, e.g. "aten::matmul" or "aten::max.dim".</summary>
    public string Name { get; }

    Op(IntPtr handle, string name) { this._handle = handle; Name = name; }

    /// <summary>The operator's schema as libtorch prints it.</summary>
    public string Schema => Marshal.PtrToStringUTF8(NativeMethods.tb_op_schema(_handle)) ?? "";

    /// <summary>Finds "aten::name" or "aten::name.overload"; throws when the linked libtorch lacks it.</summary>
    public static Op Get(string qualifiedName) =>
        TryGet(qualifiedName) ?? throw new TorchException($"libtorch {torch.__version__} has no operator {qualifiedName}");

    /// <summary>Finds an operator, or null when the linked libtorch lacks it (for version-dependent paths).</summary>
    public static Op? TryGet(string qualifiedName)
    {
        ArgumentException.ThrowIfNullOrEmpty(qualifiedName);
        return Cache.GetOrAdd(qualifiedName, static q =>
        {
            var sep = q.IndexOf("::", StringComparison.Ordinal);
            var dot = q.IndexOf('.', sep < 0 ? 0 : sep + 2);
            var name = dot < 0 ? q : q[..dot];
            var overload = dot < 0 ? "" : q[(dot + 1)..];
            torch.EnsureInitialized();
            var h = NativeMethods.tb_op_try_find(name, overload);
            return h == IntPtr.Zero ? null : new Op(h, q);
        });
    }

    /// <summary>Calls the operator and returns its single tensor result.</summary>
    public Tensor Call(params ReadOnlySpan<OpArg> args)
    {
        Span<TbValue> results = stackalloc TbValue[4];
        int n = Invoke(args, results);
        if (n != 1 || results[0].Kind != TbKind.Tensor)
        {
            var got = Describe(results[..n]);
            Release(results[..n]);
            throw new TorchException($"{Name}: expected one tensor result, got {got}");
        }
        return new Tensor(results[0].P);
    }

    /// <summary>Calls an operator with two tensor results (e.g. max.dim → values, indices).</summary>
    public (Tensor, Tensor) Call2(params ReadOnlySpan<OpArg> args)
    {
        var r = CallTensors(args);
        if (r.Length < 2) { foreach (var t in r) t.Dispose(); throw new TorchException($"{Name}: expected two tensor results, got {r.Length}"); }
        for (int k = 2; k < r.Length; k++) r[k].Dispose();
        return (r[0], r[1]);
    }

    /// <summary>
    /// Calls an operator returning tensors (a Tensor[] result or several tensors). The operator must
    /// be free of side effects: when it returns more results than expected it is run again with
    /// room for more.
    /// </summary>
    public Tensor[] CallTensors(params ReadOnlySpan<OpArg> args)
    {
        Span<TbValue> small = stackalloc TbValue[32];
        int n = Invoke(args, small, allowRetry: true);
        if (n >= 0) return Collect(small[..n]);
        for (int size = 1 << 10; ; size <<= 4)
        {
            var large = new TbValue[size];
            n = Invoke(args, large, allowRetry: true);
            if (n >= 0) return Collect(large.AsSpan(0, n));
        }
    }

    static Tensor[] Collect(Span<TbValue> buffer)
    {
        int n = buffer.Length;
        var list = new List<Tensor>(n);
        for (int k = 0; k < n; k++)
            if (buffer[k].Kind == TbKind.Tensor) list.Add(new Tensor(buffer[k].P));
        return list.ToArray();
    }

    /// <summary>Calls the operator in place (or for its effect) and frees any tensor results.</summary>
    public void CallVoid(params ReadOnlySpan<OpArg> args)
    {
        Span<TbValue> results = stackalloc TbValue[8];
        int n = Invoke(args, results);
        Release(results[..n]);
    }

    /// <summary>Calls an operator that returns a number (int, float or bool).</summary>
    public double CallScalar(params ReadOnlySpan<OpArg> args)
    {
        Span<TbValue> results = stackalloc TbValue[4];
        int n = Invoke(args, results);
        if (n == 1 && results[0].Kind == TbKind.Int) return results[0].I;
        if (n == 1 && results[0].Kind == TbKind.Bool) return results[0].I;
        if (n == 1 && results[0].Kind == TbKind.Double) return results[0].D;
        var got = Describe(results[..n]);
        Release(results[..n]);
        throw new TorchException($"{Name}: expected a number, got {got}");
    }

    unsafe int Invoke(ReadOnlySpan<OpArg> args, Span<TbValue> results, bool allowRetry = false)
    {
        if (args.Length > 64) throw new ArgumentException($"{Name}: too many arguments ({args.Length})");
        int words = 0;
        foreach (var a in args) words += a.ScratchWords;
        long[]? pooled = words > 256 ? new long[words] : null;
        Span<long> scratchSpan = pooled ?? stackalloc long[Math.Max(words, 1)];
        TbValue* native = stackalloc TbValue[Math.Max(args.Length, 1)];
        fixed (long* scratchBase = scratchSpan)
        fixed (TbValue* res = results)
        {
            long* scratch = scratchBase;
            for (int k = 0; k < args.Length; k++) native[k] = args[k].ToNative(ref scratch, Name, k);
            int n = NativeMethods.tb_op_call(_handle, native, args.Length, res, results.Length);
            if (n == -2 && allowRetry) return -1;
            if (n < 0) throw TorchException.FromNative(Name);
            return n;
        }
    }

    static void Release(Span<TbValue> results)
    {
        foreach (var r in results)
            if (r.Kind == TbKind.Tensor) NativeMethods.tb_tensor_free(r.P);
    }

    static string Describe(Span<TbValue> results)
    {
        if (results.Length == 0) return "nothing";
        var kinds = new List<string>();
        foreach (var r in results) kinds.Add(r.Kind switch { TbKind.Tensor => "Tensor", TbKind.Int => "int", TbKind.Double => "float", TbKind.Bool => "bool", _ => "None" });
        return string.Join(", ", kinds);
    }

    public override string ToString() => Name;
}
