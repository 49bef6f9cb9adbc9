using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Interactive;

namespace Tunebook.Kernel.Execution;

/// <summary>Broadcasts a message on iopub, parented to <paramref name="parentHeader"/> (null for kernel-wide status).</summary>
public delegate void IopubPublish(string msgType, JsonObject content, JsonObject? parentHeader);

/// <summary>
/// <see cref="INotebookHost"/> for the Jupyter kernel: displays become display_data / update_display_data
/// messages, ClearOutput becomes clear_output, and each cell gets a fresh cancellation token that an
/// interrupt cancels. Everything leaves through the publish delegate (the kernel's iopub queue), so every
/// member is safe from any thread.
/// </summary>
public sealed class KernelHost : INotebookHost
{
    readonly IopubPublish _publish;
    volatile JsonObject? _parent;
    volatile CancellationTokenSource _cancellation = new();

    public CellOutputWriter Stdout { get; }
    public CellOutputWriter Stderr { get; }

    public KernelHost(IopubPublish publish)
    {
        _publish = publish;
        Stdout = new CellOutputWriter("stdout", publish, () => _parent);
        Stderr = new CellOutputWriter("stderr", publish, () => _parent);
    }

    /// <summary>Asks the front end for a line of input (prompt, password); set by the kernel protocol.</summary>
    public Func<string, bool, string>? InputProvider { get; init; }

    /// <summary>The header of the request being executed (or last executed); outputs are parented to it.</summary>
    public JsonObject? Parent => _parent;

    /// <summary>Starts a cell: pending output of the previous cell is flushed under its own parent first.</summary>
    public void BeginCell(JsonObject parentHeader)
    {
        FlushStreams();
        _parent = parentHeader;
        // The previous source is not disposed: a background thread of an earlier cell may still hold its token.
        _cancellation = new CancellationTokenSource();
    }

    /// <summary>Cancels the running cell's token (interrupt_request or SIGINT).</summary>
    public void Interrupt()
    {
        try { _cancellation.Cancel(); } catch (ObjectDisposedException) { }
    }

    public bool InterruptRequested => _cancellation.IsCancellationRequested;

    public CancellationToken Cancellation => _cancellation.Token;

    public void FlushStreams() { Stdout.Flush(); Stderr.Flush(); }

    public IDisplayHandle Display(object? value)
    {
        var handle = new DisplayHandle(this, Guid.NewGuid().ToString("N"));
        Publish("display_data", Formatters.Format(value), handle.DisplayId);
        return handle;
    }

    public void ClearOutput(bool wait = false)
    {
        FlushStreams();
        _publish("clear_output", new JsonObject { ["wait"] = wait }, _parent);
    }

    /// <summary>Publishes the last expression of a cell.</summary>
    public void PublishResult(object? value, int executionCount)
    {
        FlushStreams();
        var content = BundleContent(Formatters.Format(value));
        content["execution_count"] = executionCount;
        _publish("execute_result", content, _parent);
    }

    internal void Publish(string msgType, MimeBundle bundle, string displayId)
    {
        FlushStreams();
        var content = BundleContent(bundle);
        content["transient"] = new JsonObject { ["display_id"] = displayId };
        _publish(msgType, content, _parent);
    }

    /// <summary>data + metadata of a bundle. JSON MIME types are embedded as JSON values, not strings.</summary>
    public static JsonObject BundleContent(MimeBundle bundle)
    {
        var data = new JsonObject();
        foreach (var (mime, payload) in bundle)
            data[mime] = MimeBundle.IsJsonMimeType(mime) ? ParseJsonOrString(payload) : JsonValue.Create(payload);
        var metadata = new JsonObject();
        foreach (var (mime, json) in bundle.Metadata)
            metadata[mime] = ParseJsonOrString(json);
        return new JsonObject { ["data"] = data, ["metadata"] = metadata };
    }

    static JsonNode? ParseJsonOrString(string text)
    {
        try { return JsonNode.Parse(text); }
        catch (JsonException) { return JsonValue.Create(text); }
    }

    /// <summary>
    /// Like ipykernel's DisplayHandle: Update re-renders the same output area (update_display_data with
    /// the handle's display_id). Clear has no ipykernel counterpart; it updates the area to an empty
    /// text/plain, which every front end renders as nothing, and a later Update fills it again.
    /// </summary>
    sealed class DisplayHandle(KernelHost host, string id) : IDisplayHandle
    {
        public string DisplayId => id;
        public void Update(object? value) => host.Publish("update_display_data", Formatters.Format(value), id);
        public void Clear() => host.Publish("update_display_data", new MimeBundle(""), id);
        public override string ToString() => $"display handle {id}";
    }
}
