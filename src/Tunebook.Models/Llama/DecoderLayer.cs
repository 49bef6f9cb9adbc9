using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models.Llama;

/// <summary>The self-attention of a decoder layer: hidden [B, T, H] → [B, T, H], masks, rotary tables and cache from the context.</summary>
public interface ISelfAttention
{
    Tensor Forward(Tensor hidden, ForwardContext context);
}

/// <summary>One block of a <see cref="DecoderStack{TLayer}"/>: hidden [B, T, H] → hidden [B, T, H].</summary>
public abstract class DecoderLayer : Module
{
    public abstract Tensor Forward(Tensor hidden, ForwardContext context);
}

/// <summary>
/// The pre-norm block of Llama and most of its relatives: h = x + attn(norm(x)); out = h + mlp(norm(h)).
/// The residual stream carries the token's representation; each sublayer adds a correction to it.
/// An architecture brings its own attention and feed-forward (Phi-3's are fused); the block and the
/// checkpoint names (self_attn, mlp, input_layernorm, post_attention_layernorm) are shared.
/// </summary>
public abstract class PreNormDecoderLayer<TAttention, TMlp> : DecoderLayer
    where TAttention : Module, ISelfAttention
    where TMlp : Module<Tensor, Tensor>
{
    public TAttention self_attn { get; }
    public TMlp mlp { get; }
    public RMSNorm input_layernorm { get; }
    public RMSNorm post_attention_layernorm { get; }

    protected PreNormDecoderLayer(ModelConfig config, TAttention attention, TMlp mlp, Device device, ScalarType dtype)
    {
        self_attn = RegisterModule("self_attn", attention);
        this.mlp = RegisterModule("mlp", mlp);
        input_layernorm = RegisterModule("input_layernorm", new RMSNorm(config.HiddenSize, config.NormEps, device, dtype));
        post_attention_layernorm = RegisterModule("post_attention_layernorm", new RMSNorm(config.HiddenSize, config.NormEps, device, dtype));
    }

    public override Tensor Forward(Tensor hidden, ForwardContext context)
    {
        using var scope = torch.NewDisposeScope();
        var h = hidden + self_attn.Forward(input_layernorm.forward(hidden), context);
        var output = h + mlp.forward(post_attention_layernorm.forward(h));
        return scope.MoveToOuter(output);
    }
}
