namespace Tunebook.Torch.nn;

/// <summary>Parameter initializers (torch.nn.init). All run without recording gradients and return the tensor.</summary>
public static class init
{
    /// <summary>(fan_in, fan_out) of a weight: dims 1 and 0 times the receptive field.</summary>
    public static (long fanIn, long fanOut) calculate_fan_in_and_fan_out(Tensor tensor)
    {
        var s = tensor.shape;
        if (s.Length < 2) throw new ArgumentException($"fan in/out needs a tensor with at least 2 dimensions, got shape {Tensor.ShapeString(s)}");
        long receptive = 1;
        for (int k = 2; k < s.Length; k++) receptive *= s[k];
        return (s[1] * receptive, s[0] * receptive);
    }

    /// <summary>Gain for a nonlinearity ("linear", "relu", "leaky_relu" with param, "tanh", "sigmoid").</summary>
    public static double calculate_gain(string nonlinearity, double? param = null) => nonlinearity switch
    {
        "linear" or "sigmoid" or "conv1d" or "conv2d" => 1.0,
        "tanh" => 5.0 / 3,
        "relu" => Math.Sqrt(2.0),
        "leaky_relu" => Math.Sqrt(2.0 / (1 + Math.Pow(param ?? 0.01, 2))),
        "selu" => 3.0 / 4,
        _ => throw new ArgumentException($"unknown nonlinearity '{nonlinearity}'"),
    };

    public static Tensor uniform_(Tensor t, double a = 0, double b = 1) { using var _ = torch.no_grad(); return t.uniform_(a, b); }
    public static Tensor normal_(Tensor t, double mean = 0, double std = 1) { using var _ = torch.no_grad(); return t.normal_(mean, std); }
    public static Tensor zeros_(Tensor t) { using var _ = torch.no_grad(); return t.zero_(); }
    public static Tensor ones_(Tensor t) { using var _ = torch.no_grad(); return t.fill_(1); }
    public static Tensor constant_(Tensor t, double value) { using var _ = torch.no_grad(); return t.fill_(value); }

    /// <summary>Kaiming/He uniform init (PyTorch's default for Linear uses a = √5).</summary>
    public static Tensor kaiming_uniform_(Tensor t, double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu")
    {
        var (fanIn, fanOut) = calculate_fan_in_and_fan_out(t);
        long fan = mode == "fan_in" ? fanIn : mode == "fan_out" ? fanOut : throw new ArgumentException($"mode must be fan_in or fan_out, got '{mode}'");
        double std = calculate_gain(nonlinearity, a) / Math.Sqrt(fan);
        double bound = Math.Sqrt(3.0) * std;
        return uniform_(t, -bound, bound);
    }

    /// <summary>Xavier/Glorot uniform init.</summary>
    public static Tensor xavier_uniform_(Tensor t, double gain = 1)
    {
        var (fanIn, fanOut) = calculate_fan_in_and_fan_out(t);
        double bound = gain * Math.Sqrt(6.0 / (fanIn + fanOut));
        return uniform_(t, -bound, bound);
    }
}
