namespace Tunebook.Torch;

/// <summary>Device kinds (libtorch's c10::DeviceType codes).</summary>
public enum DeviceType
{
    CPU = 0,
    CUDA = 1,
}

/// <summary>A device: "cpu", "cuda" (the current CUDA device) or "cuda:N".</summary>
public readonly record struct Device(DeviceType Type, int Index = -1)
{
    public static readonly Device CPU = new(DeviceType.CPU);
    public static readonly Device CUDA = new(DeviceType.CUDA);

    /// <summary>Parses "cpu", "cuda", "cuda:1".</summary>
    public Device(string spec) : this(ParseSpec(spec).Type, ParseSpec(spec).Index) { }

    public static implicit operator Device(string spec) => new(spec);

    public bool IsCuda => Type == DeviceType.CUDA;

    public static Device ParseSpec(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var s = spec.Trim().ToLowerInvariant();
        if (s == "cpu") return CPU;
        if (s == "cuda") return CUDA;
        if (s.StartsWith("cuda:") && int.TryParse(s.AsSpan(5), out var index) && index >= 0) return new Device(DeviceType.CUDA, index);
        throw new ArgumentException($"unknown device '{spec}'; expected \"cpu\", \"cuda\" or \"cuda:N\"", nameof(spec));
    }

    public override string ToString() => Type switch
    {
        DeviceType.CPU => "cpu",
        _ => Index >= 0 ? $"cuda:{Index}" : "cuda",
    };
}
