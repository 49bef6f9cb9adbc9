using System.Globalization;
using System.Text;

namespace Tunebook.Torch;

// Printing, like PyTorch's repr: values (summarized for large tensors), dtype and device.
public partial class Tensor
{
    const int SummarizeAbove = 1000, EdgeItems = 3;

    /// <summary>PyTorch-style text: <c>tensor([[1.0000, 2.0000], ...], dtype=bfloat16)</c>.</summary>
    public override string ToString()
    {
        if (IsDisposed) return $"{Label} (disposed)";
        try
        {
            var s = shape;
            var dt = dtype;
            long n = numel();
            bool summarize = n > SummarizeAbove;
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            // Large tensors: keep only the edge items of each long dimension before copying to the host.
            var edges = detach();
            if (summarize)
                for (int d = 0; d < s.Length; d++)
                    if (s[d] > 2 * EdgeItems)
                        edges = torch.cat([edges.narrow(d, 0, EdgeItems), edges.narrow(d, s[d] - EdgeItems, EdgeItems)], d);
            var host = edges.to(Device.CPU).to(dt == ScalarType.Bool ? ScalarType.Bool : dt.IsFloatingPoint() ? ScalarType.Float64 : ScalarType.Int64).contiguous();
            var sb = new StringBuilder("tensor(");
            string[] formatted;
            if (dt == ScalarType.Bool) formatted = Array.ConvertAll(host.data<bool>(), b => b ? "True" : "False");
            else if (dt.IsFloatingPoint()) formatted = FormatFloats(host.data<double>());
            else formatted = Array.ConvertAll(host.data<long>(), v => v.ToString(CultureInfo.InvariantCulture));
            // Right-align to a common width, as PyTorch does.
            int width = formatted.Length == 0 ? 0 : formatted.Max(v => v.Length);
            for (int k = 0; k < formatted.Length; k++) formatted[k] = formatted[k].PadLeft(width);
            Append(sb, formatted, host.shape, s, 0, 0, summarize, 7);
            if (dt != ScalarType.Float32 && dt != ScalarType.Int64 && dt != ScalarType.Bool) sb.Append($", dtype=torch.{dt.Name()}");
            if (device.Type != DeviceType.CPU) sb.Append($", device='{device}'");
            if (requires_grad) sb.Append(", requires_grad=True");
            sb.Append(')');
            return sb.ToString();
        }
        catch (Exception e) when (e is TorchException or ObjectDisposedException)
        {
            return $"{Label} ({e.Message})";
        }
    }

    // PyTorch's choices: "1." when every finite value is an integer, scientific notation when the
    // magnitudes span more than 1000× or exceed 1e8 / fall below 1e-4, else 4 decimals.
    static string[] FormatFloats(double[] values)
    {
        var finite = values.Where(double.IsFinite).Select(Math.Abs).ToArray();
        string Special(double v) => double.IsNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
        if (finite.All(v => v == Math.Floor(v)) && (finite.Length == 0 || finite.Max() < 1e8))
            return Array.ConvertAll(values, v => double.IsFinite(v) ? v.ToString("0", CultureInfo.InvariantCulture) + "." : Special(v));
        var nonzero = finite.Where(v => v != 0).ToArray();
        bool scientific = nonzero.Length > 0 && (nonzero.Max() / nonzero.Min() > 1000 || nonzero.Max() > 1e8 || nonzero.Min() < 1e-4);
        return Array.ConvertAll(values, v => !double.IsFinite(v) ? Special(v)
            : scientific ? v.ToString("0.0000e+00", CultureInfo.InvariantCulture)
            : v.ToString("0.0000", CultureInfo.InvariantCulture));
    }

    // shape: of the (edge-reduced) values; original: the tensor's shape, to know where "..." goes.
    static void Append(StringBuilder sb, string[] values, long[] shape, long[] original, int dim, long offset, bool summarize, int indent)
    {
        if (shape.Length == 0) { sb.Append(values[0]); return; }
        long size = shape[dim];
        long stride = 1;
        for (int k = dim + 1; k < shape.Length; k++) stride *= shape[k];
        sb.Append('[');
        for (long i = 0; i < size; i++)
        {
            if (summarize && original[dim] > 2 * EdgeItems && i == EdgeItems)
                sb.Append(dim == shape.Length - 1 ? "...".PadLeft(values[0].Length) + ", " : "...,\n" + new string(' ', indent + dim + 1));
            if (dim == shape.Length - 1) sb.Append(values[offset + i]);
            else Append(sb, values, shape, original, dim + 1, offset + i * stride, summarize, indent);
            if (i < size - 1) sb.Append(dim == shape.Length - 1 ? ", " : ",\n" + new string(' ', indent + dim + 1));
        }
        sb.Append(']');
    }
}
