using F = Tunebook.Torch.nn.functional;

namespace Tunebook.Torch.Tests;

/// <summary>
/// Finite-difference gradient checks in float64: for each differentiable op, the gradient autograd
/// computes for sum(f(x) · w) (w random) must match central differences.
/// </summary>
public class GradCheckTests
{
    sealed record Case(Func<Tensor[], Tensor> Fn, long[][] Shapes, Func<Tensor, Tensor>? Domain = null, long[]? IntInputs = null);

    static readonly Dictionary<string, Case> Cases = new()
    {
        ["add"] = new(x => x[0] + x[1], [[3, 4], [4]]),
        ["sub"] = new(x => x[0] - x[1] * 2, [[3, 4], [3, 4]]),
        ["mul"] = new(x => x[0] * x[1], [[3, 4], [3, 1]]),
        ["div"] = new(x => x[0] / x[1], [[3, 4], [3, 4]], Positive),
        ["neg"] = new(x => -x[0], [[5]]),
        ["exp"] = new(x => x[0].exp(), [[5]]),
        ["log"] = new(x => x[0].log(), [[5]], Positive),
        ["sqrt"] = new(x => x[0].sqrt(), [[5]], Positive),
        ["rsqrt"] = new(x => x[0].rsqrt(), [[5]], Positive),
        ["pow"] = new(x => x[0].pow(3), [[5]]),
        ["pow_tensor"] = new(x => x[0].pow(x[1]), [[5], [5]], Positive),
        ["sin_cos"] = new(x => x[0].sin() + x[0].cos(), [[5]]),
        ["tanh"] = new(x => x[0].tanh(), [[5]]),
        ["sigmoid"] = new(x => x[0].sigmoid(), [[5]]),
        ["relu"] = new(x => x[0].relu(), [[6]], AwayFromZero),
        ["silu"] = new(x => x[0].silu(), [[6]]),
        ["gelu"] = new(x => x[0].gelu(), [[6]]),
        ["gelu_tanh"] = new(x => x[0].gelu("tanh"), [[6]]),
        ["abs"] = new(x => x[0].abs(), [[6]], AwayFromZero),
        ["clamp"] = new(x => x[0].clamp(-0.5, 0.5), [[6]], AwayFromHalf),
        ["maximum"] = new(x => x[0].maximum(x[1]), [[6], [6]]),
        ["matmul"] = new(x => x[0].matmul(x[1]), [[3, 4], [4, 2]]),
        ["matmul_batched"] = new(x => x[0].matmul(x[1]), [[2, 3, 4], [4, 2]]),
        ["bmm"] = new(x => x[0].bmm(x[1]), [[2, 3, 4], [2, 4, 2]]),
        ["linear"] = new(x => F.linear(x[0], x[1], x[2]), [[3, 4], [2, 4], [2]]),
        // One input row takes the matrix-vector path (shim tb_linear): vector, [1, in] and [1, 1, in] inputs.
        ["linear_single_row_vector"] = new(x => F.linear(x[0], x[1], x[2]), [[4], [2, 4], [2]]),
        ["linear_single_row_no_bias"] = new(x => F.linear(x[0], x[1]), [[1, 4], [3, 4]]),
        ["linear_single_row_3d"] = new(x => F.linear(x[0], x[1], x[2]), [[1, 1, 4], [3, 4], [3]]),
        ["linear_single_row_transposed_weight"] = new(x => F.linear(x[0], x[1].t(), x[2]), [[1, 4], [4, 3], [3]]),
        ["softmax"] = new(x => x[0].softmax(-1), [[3, 4]]),
        ["log_softmax"] = new(x => x[0].log_softmax(1), [[3, 4]]),
        ["logsumexp"] = new(x => x[0].logsumexp(-1), [[3, 4]]),
        ["sum_mean"] = new(x => x[0].sum(0) + x[0].mean(0), [[3, 4]]),
        ["max_dim"] = new(x => x[0].max(1).values, [[3, 4]]),
        ["norm"] = new(x => x[0].norm(), [[3, 4]]),
        ["cross_entropy_ignore_index"] = new(x => F.cross_entropy(x[0], torch.tensor(new long[] { 1, -100, 3 })), [[3, 4]]),
        ["nll_loss"] = new(x => F.nll_loss(x[0].log_softmax(1), torch.tensor(new long[] { 1, -100, 3 })), [[3, 4]]),
        ["where_scalar"] = new(x => torch.where(x[0].gt(0), x[0], 0.5), [[6]], AwayFromZero),
        ["mse_loss"] = new(x => F.mse_loss(x[0], x[1]), [[3, 4], [3, 4]]),
        ["embedding"] = new(x => F.embedding(torch.tensor(new long[] { 2, 0, 2, 1 }), x[0]), [[3, 4]]),
        ["layer_norm"] = new(x => F.layer_norm(x[0], [4], x[1], x[2]), [[3, 4], [4], [4]]),
        ["rms_norm"] = new(x => F.rms_norm(x[0], x[1]), [[3, 4], [4]]),
        ["where"] = new(x => torch.where(x[0].gt(0), x[0], x[1]), [[6], [6]], AwayFromZero),
        ["masked_fill_triu"] = new(x => x[0].masked_fill(torch.ones([3, 3], ScalarType.Bool).triu(1), 0), [[3, 3]]),
        ["tril"] = new(x => x[0].tril(), [[3, 3]]),
        ["views"] = new(x => x[0].reshape(4, 3).transpose(0, 1).permute(1, 0).narrow(0, 1, 2).slice(1, 0, 3, 2), [[3, 4]]),
        ["index_select_gather"] = new(x => x[0].index_select(0, torch.tensor(new long[] { 2, 0 })).gather(1, torch.tensor(new long[] { 3, 0, 1, 1 }, [2, 2])), [[3, 4]]),
        ["cat_stack_chunk"] = new(x => torch.stack([torch.cat([x[0], x[1]], 1).chunk(2, 1)[1], x[0]]), [[2, 3], [2, 3]]),
        ["expand_contiguous"] = new(x => x[0].unsqueeze(0).expand(3, -1, -1).contiguous() * x[1], [[2, 3], [3, 2, 3]]),
        ["sdpa_fused_causal"] = new(x => F.scaled_dot_product_attention(x[0], x[1], x[2], is_causal: true), [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]]),
        ["sdpa_composed_mask"] = new(x => F.scaled_dot_product_attention_composed(x[0], x[1], x[2], attn_mask: torch.tensor(new bool[] { true, false, true, true, true, false }, [2, 3]).unsqueeze(0).unsqueeze(0)), [[1, 2, 2, 4], [1, 2, 3, 4], [1, 2, 3, 4]]),
        ["sdpa_gqa"] = new(x => F.scaled_dot_product_attention(x[0], x[1], x[2], is_causal: true), [[1, 4, 3, 2], [1, 2, 3, 2], [1, 2, 3, 2]]),
        // Grouped-query attention without a per-row mask folds the query heads instead of repeating keys.
        ["sdpa_gqa_one_query"] = new(x => F.scaled_dot_product_attention(x[0], x[1], x[2]), [[2, 4, 1, 2], [2, 2, 3, 2], [2, 2, 3, 2]]),
        ["sdpa_gqa_padding_mask"] = new(x => F.scaled_dot_product_attention(x[0], x[1], x[2], torch.tensor(new bool[] { false, true, true, true, true, true }, [2, 1, 1, 3])), [[2, 4, 1, 2], [2, 2, 3, 2], [2, 2, 3, 2]]),
        ["dropout_fixed_seed"] = new(x => { torch.manual_seed(7); return F.dropout(x[0], 0.3, true); }, [[4, 5]]),
        ["log1p_reciprocal"] = new(x => x[0].log1p() + x[0].reciprocal(), [[5]], Positive),
        ["erf"] = new(x => x[0].erf(), [[5]]),
        ["square"] = new(x => x[0].square(), [[5]]),
        ["minimum"] = new(x => x[0].minimum(x[1]), [[6], [6]]),
        ["clamp_min_max"] = new(x => x[0].clamp_min(-0.5) + x[0].clamp_max(0.5), [[6]], AwayFromHalf),
        ["prod"] = new(x => x[0].prod(), [[5]]),
        ["var_std"] = new(x => x[0].var([1]) + x[0].std([0]).sum(), [[3, 4]]),
        ["amax_min"] = new(x => x[0].amax([1]) + x[0].min(0).values.sum(), [[3, 4]]),
        ["sum_mean_dims"] = new(x => x[0].sum([0, 2], keepdim: true) * x[0].mean([1], keepdim: true), [[2, 3, 4]]),
        ["topk_sort"] = new(x => x[0].topk(2).values + x[0].sort(descending: true).values.narrow(-1, 0, 2), [[3, 5]]),
        ["cumsum_cumprod"] = new(x => x[0].cumsum(1) + x[0].cumprod(1), [[2, 4]]),
        ["flip_roll_repeat"] = new(x => x[0].flip(1).roll(1, 0).repeat(2, 1), [[2, 3]]),
        ["squeeze_flatten"] = new(x => x[0].unsqueeze(1).squeeze(1).flatten() * 2, [[2, 3]]),
        ["pad"] = new(x => F.pad(x[0], [1, 2], 0.5), [[2, 3]]),
        ["bce_with_logits"] = new(x => F.binary_cross_entropy_with_logits(x[0], torch.tensor(new double[] { 0, 1, 1, 0, 0.5, 1 }, [2, 3])), [[2, 3]]),
        ["einsum_outer_mm"] = new(x => torch.einsum("ij,jk->ik", x[0], x[1]) + x[0].mm(x[1]) + x[0].sum(1).outer(x[1].sum(0)), [[2, 3], [3, 2]]),
        ["advanced_index_scatter"] = new(x => x[0].index(torch.tensor(new long[] { 1, 0, 1 })).scatter_add(1, torch.tensor(new long[] { 0, 2, 1, 1, 0, 0 }, [3, 2]), x[1]), [[2, 3], [3, 2]]),
        ["masked_select"] = new(x => x[0].masked_select(torch.tensor(new bool[] { true, false, true, true, false, true }, [2, 3])), [[2, 3]]),
        ["unbind_split"] = new(x => x[0].unbind(0)[1] + x[0].split(1, 0)[0].squeeze(0), [[2, 3]]),
        ["repeat_interleave"] = new(x => x[0].repeat_interleave(2, 0), [[2, 3]]),
    };

    static Tensor Positive(Tensor x) => x.abs() + 0.5;
    static Tensor AwayFromZero(Tensor x) => x.sign() * (x.abs() + 0.2);
    static Tensor AwayFromHalf(Tensor x) => torch.where(x.abs().sub(0.5).abs().lt(0.1), x * 2, x);

    public static TheoryData<string> Names => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void GradientMatchesFiniteDifferences(string name)
    {
        var c = Cases[name];
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(name.GetHashCode() & 0xffff);
        var data = c.Shapes.Select(s => (c.Domain ?? (t => t))(torch.randn(s, ScalarType.Float64)).data<double>()).ToArray();

        Tensor[] Make() => data.Select((d, i) => torch.tensor(d, c.Shapes[i], ScalarType.Float64)).ToArray();

        // Analytic gradient of sum(f(x) * w).
        var inputs = Make();
        foreach (var t in inputs) t.requires_grad_();
        var output = c.Fn(inputs);
        Assert.True(output.requires_grad, $"{name}: the output does not require grad");
        var weight = torch.randn(output.shape, ScalarType.Float64);
        (output * weight).sum().backward();
        var analytic = inputs.Select(t => t.grad!.data<double>()).ToArray();
        var w = weight.data<double>();

        double Objective(double[][] values)
        {
            using var inner = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var xs = values.Select((d, i) => torch.tensor(d, c.Shapes[i], ScalarType.Float64)).ToArray();
            var y = c.Fn(xs).contiguous().data<double>();
            double s = 0;
            for (int k = 0; k < y.Length; k++) s += y[k] * w[k];
            return s;
        }

        const double eps = 1e-6;
        for (int i = 0; i < data.Length; i++)
            for (int j = 0; j < data[i].Length; j++)
            {
                double original = data[i][j];
                data[i][j] = original + eps;
                double plus = Objective(data);
                data[i][j] = original - eps;
                double minus = Objective(data);
                data[i][j] = original;
                double numeric = (plus - minus) / (2 * eps);
                double diff = Math.Abs(numeric - analytic[i][j]);
                Assert.True(diff <= 1e-5 + 1e-4 * Math.Abs(numeric),
                    $"{name}: input {i} element {j}: autograd {analytic[i][j]}, finite differences {numeric}");
            }
    }
}
