using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tunebook.Kernel.Protocol;

/// <summary>
/// The connection file a Jupyter client writes before launching the kernel: where to bind each channel
/// and how to sign messages.
/// </summary>
public sealed class ConnectionInfo
{
    [JsonPropertyName("transport")] public string Transport { get; set; } = "tcp";
    [JsonPropertyName("ip")] public string Ip { get; set; } = "127.0.0.1";
    [JsonPropertyName("shell_port")] public int ShellPort { get; set; }
    [JsonPropertyName("control_port")] public int ControlPort { get; set; }
    [JsonPropertyName("stdin_port")] public int StdinPort { get; set; }
    [JsonPropertyName("iopub_port")] public int IopubPort { get; set; }
    [JsonPropertyName("hb_port")] public int HeartbeatPort { get; set; }
    [JsonPropertyName("key")] public string Key { get; set; } = "";
    [JsonPropertyName("signature_scheme")] public string SignatureScheme { get; set; } = "hmac-sha256";
    [JsonPropertyName("kernel_name")] public string? KernelName { get; set; }

    /// <summary>Reads and checks a connection file; the error names the file and the bad field.</summary>
    public static ConnectionInfo Load(string path)
    {
        ConnectionInfo? info;
        try { info = JsonSerializer.Deserialize(File.ReadAllText(path), KernelJsonContext.Default.ConnectionInfo); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid connection file ({e.Message})", e); }
        if (info is null) throw new InvalidDataException($"{path}: the connection file is empty");
        if (info.Transport is not ("tcp" or "ipc"))
            throw new InvalidDataException($"{path}: transport must be \"tcp\" or \"ipc\", got \"{info.Transport}\"");
        foreach (var (name, port) in new[] { ("shell_port", info.ShellPort), ("control_port", info.ControlPort),
                     ("stdin_port", info.StdinPort), ("iopub_port", info.IopubPort), ("hb_port", info.HeartbeatPort) })
            if (port < 0 || port > 65535)
                throw new InvalidDataException($"{path}: {name} must be a port number, got {port}");
        _ = MessageSigner.Create(info.SignatureScheme, info.Key); // validates the scheme now, not on the first message
        return info;
    }

    /// <summary>
    /// The ZeroMQ endpoint of one channel. For tcp it is ip:port; for ipc, Jupyter's convention is the
    /// file "{ip}-{port}" (ip holds a path prefix).
    /// </summary>
    public string Endpoint(int port) => Transport == "ipc" ? $"ipc://{Ip}-{port}" : $"tcp://{Ip}:{(port == 0 ? "*" : port.ToString())}";
}
