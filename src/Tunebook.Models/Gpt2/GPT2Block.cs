using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models.Gpt2;

/// <summary>GPT-2 attention: one fused c_attn projection to q, k, v; c_proj back to the residual width.</summary>
public sealed class GPT2Attention : Module
{
    readonly int _layerIndex;
    readonly long _heads, _headDim, _hidden;
    /// <summary>Score multiplier; null for the usual 1/√head_dim (see scale_attn_by_inverse_layer_idx).</summary>
    readonly double? _scale;

    /// <summary>Fused q/k/v projection, Conv1D [hidden, 3 × hidden].</summary>
    public Module<Tensor, Tensor> c_attn { get; private set; }
    /// <summary>Output projection, Conv1D [hidden, hidden].</summary>
    public Module<Tensor, Tensor> c_proj { get; private set; }

    public GPT2Attention(ModelConfig config, int layerIndex, Device device, ScalarType dtype)
    {
        _layerIndex = layerIndex;
        _heads = config.NumAttentionHeads;
        _headDim = config.HeadDim;
        _hidden = config.HiddenSize;
        // Some GPT-2 variants also divide the scores by the layer's depth, to keep deep stacks stable.
        _scale = config.ScaleAttnByInverseLayerIdx ? 1.0 / Math.Sqrt(_headDim) / (layerIndex + 1) : null;
        c_attn = RegisterModule("c_attn", new Conv1D(_hidden, 3 * _hidden, device, dtype));
        c_proj = RegisterModule("c_proj", new Conv1D(_hidden, _hidden, device, dtype));
    }

    /// <summary>x [B, T, H] → attention output [B, T, H], with this layer's mask from <paramref name="context"/>.</summary>
    public Tensor Forward(Tensor x, ForwardContext context)
    {
        using var scope = torch.NewDisposeScope();
        long B = context.Batch, T = context.Length;
        var qkv = c_attn.forward(x).split(_hidden, 2);
        Tensor Heads(Tensor t) => t.view(B, T, _heads, _headDim).transpose(1, 2);
        Tensor q = Heads(qkv[0]), k = Heads(qkv[1]), v = Heads(qkv[2]);
        if (context.Cache is { } cache) (k, v) = cache.Update(_layerIndex, k, v);
        var output = Attention.ScaledDotProduct(q, k, v, context, _layerIndex, _scale).transpose(1, 2).reshape(B, T, _hidden);
        return scope.MoveToOuter(c_proj.forward(output));
    }
}

/// <summary>GPT-2 feed-forward: c_proj(gelu(c_fc(x))), 4× wide by default.</summary>
public sealed class GPT2MLP : Module<Tensor, Tensor>
{
    readonly string _activation;

    public Module<Tensor, Tensor> c_fc { get; private set; }
    public Module<Tensor, Tensor> c_proj { get; private set; }

    public GPT2MLP(ModelConfig config, Device device, ScalarType dtype)
    {
        _activation = config.HiddenAct;
        if (_activation is not ("gelu_new" or "gelu_pytorch_tanh" or "gelu" or "relu" or "silu" or "swish" or "gelu_fast"))
            throw new ModelConfigException(config.SourceFile, "activation_function", $"'{_activation}' is not supported; expected gelu_new, gelu_pytorch_tanh, gelu_fast, gelu, relu or silu");
        c_fc = RegisterModule("c_fc", new Conv1D(config.HiddenSize, config.IntermediateSize, device, dtype));
        c_proj = RegisterModule("c_proj", new Conv1D(config.IntermediateSize, config.HiddenSize, device, dtype));
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var h = c_fc.forward(x);
        h = _activation switch
        {
            // gelu_new is the tanh approximation GPT-2 was trained with.
            "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => h.gelu("tanh"),
            "gelu" => h.gelu(),
            "relu" => h.relu(),
            _ => h.silu(),
        };
        return scope.MoveToOuter(c_proj.forward(h));
    }
}

/// <summary>One GPT-2 block: pre-LayerNorm attention and MLP, each added to the residual stream.</summary>
public sealed class GPT2Block : Module
{
    public LayerNorm ln_1 { get; }
    public GPT2Attention attn { get; }
    public LayerNorm ln_2 { get; }
    public GPT2MLP mlp { get; }

    public GPT2Block(ModelConfig config, int layerIndex, Device device, ScalarType dtype)
    {
        ln_1 = RegisterModule("ln_1", new LayerNorm(config.HiddenSize, config.NormEps, device: device, dtype: dtype));
        attn = RegisterModule("attn", new GPT2Attention(config, layerIndex, device, dtype));
        ln_2 = RegisterModule("ln_2", new LayerNorm(config.HiddenSize, config.NormEps, device: device, dtype: dtype));
        mlp = RegisterModule("mlp", new GPT2MLP(config, device, dtype));
    }

    public Tensor Forward(Tensor x, ForwardContext context)
    {
        using var scope = torch.NewDisposeScope();
        var h = x + attn.Forward(ln_1.forward(x), context);
        return scope.MoveToOuter(h + mlp.forward(ln_2.forward(h)));
    }
}
