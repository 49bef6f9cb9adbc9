using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models.Llama;

/// <summary>
/// The decoder stack of a Llama-like model, named as in its checkpoints: model.embed_tokens,
/// model.layers.{i}, model.norm. The architecture supplies its layer and its final norm (Gemma's
/// differs from RMSNorm).
/// </summary>
public sealed class DecoderStack<TLayer> : Module where TLayer : DecoderLayer
{
    public Embedding embed_tokens { get; }
    public ModuleList<TLayer> layers { get; }
    public Module<Tensor, Tensor> norm { get; }

    public DecoderStack(ModelConfig config, Func<int, TLayer> layer, Module<Tensor, Tensor> norm, Device device, ScalarType dtype)
    {
        embed_tokens = RegisterModule("embed_tokens", new Embedding(config.VocabSize, config.HiddenSize, device: device, dtype: dtype));
        layers = RegisterModule("layers", new ModuleList<TLayer>(Enumerable.Range(0, config.NumHiddenLayers).Select(layer)));
        this.norm = RegisterModule("norm", norm);
    }
}
