using Tunebook.Torch;
using Tunebook.Tuning.Lora;

namespace Tunebook.Notebook;

/// <summary>
/// Turns a model's LoRA adapters off for a while, on the same model, without a second copy of the weights:
/// each adapter's B matrix (the small one, rank × out) is set aside and zeroed, which makes B·A = 0 so every
/// layer computes exactly its base function; modules trained in full (modules_to_save) get their original
/// weights back for the while. Disposing puts the trained values back.
/// </summary>
public sealed class AdapterSwitch : IDisposable
{
    readonly List<(LoraLinear Layer, Tensor Saved)> _saved = [];
    readonly IDisposable _originalModules;

    AdapterSwitch(LoraModel lora)
    {
        _originalModules = lora.UseOriginalSavedModules();
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        foreach (var layer in lora.Layers.Values)
        {
            var saved = layer.lora_B.weight.detach().clone().DetachFromDisposeScope();
            layer.lora_B.weight.detach().zero_();
            _saved.Add((layer, saved));
        }
    }

    /// <summary>Disables the adapters of <paramref name="lora"/> until the returned switch is disposed.</summary>
    public static AdapterSwitch Disable(LoraModel lora)
    {
        ArgumentNullException.ThrowIfNull(lora);
        return new AdapterSwitch(lora);
    }

    public void Dispose()
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        foreach (var (layer, saved) in _saved)
        {
            layer.lora_B.weight.detach().copy_(saved);
            saved.Dispose();
        }
        _saved.Clear();
        _originalModules.Dispose();
    }
}
