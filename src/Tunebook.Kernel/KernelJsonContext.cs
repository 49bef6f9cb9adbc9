using System.Text.Json.Serialization;
using Tunebook.Kernel.Protocol;

namespace Tunebook.Kernel;

/// <summary>Compile-time JSON metadata for the types the kernel deserializes, so it runs with System.Text.Json's reflection off.</summary>
[JsonSerializable(typeof(ConnectionInfo))]
internal sealed partial class KernelJsonContext : JsonSerializerContext;
