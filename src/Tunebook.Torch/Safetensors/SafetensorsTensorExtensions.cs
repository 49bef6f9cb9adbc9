namespace Tunebook.Torch;

/// <summary>Tensor-level reading and writing on top of <see cref="ISafetensorsReader"/> and <see cref="SafetensorsWriter"/>.</summary>
public static class SafetensorsTensorExtensions
{
    /// <summary>
    /// Reads one tensor: its bytes are copied from the memory mapping into a new tensor on
    /// <paramref name="device"/> (default CPU), converted to <paramref name="dtype"/> when given.
    /// </summary>
    public static Tensor GetTensor(this ISafetensorsReader reader, string name, Device? device = null, ScalarType? dtype = null)
    {
        var entry = reader.GetEntry(name);
        var stored = entry.DType.ToScalarType(reader.Path, name);
        var tensor = torch.from_pointer(reader.GetDataAddress(name), entry.ByteLength, stored, entry.Shape, device);
        if (dtype is not { } wanted || wanted == stored) return tensor;
        using (tensor) return tensor.to(wanted);
    }

    /// <summary>Reads every tensor (or those <paramref name="include"/> accepts) into a name → tensor map.</summary>
    public static Dictionary<string, Tensor> LoadAll(this ISafetensorsReader reader, Device? device = null, ScalarType? dtype = null, Func<string, bool>? include = null)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in reader.Entries)
                if (include is null || include(entry.Name))
                    result[entry.Name] = reader.GetTensor(entry.Name, device, dtype);
            return result;
        }
        catch
        {
            foreach (var tensor in result.Values) tensor.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Adds a tensor (any device, any strides); its bytes are copied into the output file at write time,
    /// so the tensor must stay alive until the file is written.
    /// </summary>
    public static void Add(this SafetensorsWriter writer, string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var dtype = tensor.dtype.ToSafetensorsDType();
        var shape = tensor.shape;
        if (tensor.NumBytes <= int.MaxValue)
        {
            writer.Add(name, dtype, shape, span => tensor.CopyToBytes(span));
            return;
        }
        // Spans stop at 2 GiB: copy a flattened view in chunks of whole elements.
        writer.AddStreamed(name, dtype, shape, output =>
        {
            using var flat = tensor.reshape(-1);
            var elementSize = tensor.element_size();
            var chunkElements = (1L << 28) / elementSize;
            var buffer = new byte[chunkElements * elementSize];
            for (long start = 0; start < flat.numel(); start += chunkElements)
            {
                var count = Math.Min(chunkElements, flat.numel() - start);
                using var part = flat.narrow(0, start, count);
                var span = buffer.AsSpan(0, checked((int)(count * elementSize)));
                part.CopyToBytes(span);
                output.Write(span);
            }
        });
    }

    /// <summary>Adds every tensor of a name → tensor map.</summary>
    public static void AddAll(this SafetensorsWriter writer, IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        foreach (var (name, tensor) in tensors) writer.Add(name, tensor);
    }
}
