namespace Tunebook.Torch.nn;

/// <summary>Lookup table [num_embeddings, embedding_dim], initialized N(0, 1); the padding row (if any) is zero.</summary>
public class Embedding : Module<Tensor, Tensor>
{
    public long num_embeddings { get; }
    public long embedding_dim { get; }
    public long? padding_idx { get; }
    public Parameter weight { get; }

    public Embedding(long num_embeddings, long embedding_dim, long? padding_idx = null, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        if (num_embeddings <= 0 || embedding_dim <= 0)
            throw new ArgumentException($"Embedding: sizes must be positive, got {num_embeddings} x {embedding_dim}");
        if (padding_idx is { } p && (p >= num_embeddings || p < -num_embeddings))
            throw new ArgumentOutOfRangeException(nameof(padding_idx), $"Embedding: padding_idx {p} is outside [-{num_embeddings}, {num_embeddings})");
        this.num_embeddings = num_embeddings;
        this.embedding_dim = embedding_dim;
        this.padding_idx = padding_idx is { } q && q < 0 ? q + num_embeddings : padding_idx;
        using (torch.NewDisposeScope())
            weight = RegisterParameter("weight", new Parameter(torch.empty([num_embeddings, embedding_dim], dtype, device)))!;
        init.normal_(weight);
        if (this.padding_idx is { } row)
            using (torch.NewDisposeScope()) using (torch.no_grad()) weight[row].zero_();
    }

    public override Tensor forward(Tensor input) => functional.embedding(input, weight, padding_idx);

    protected override string ExtraRepr() => $"{num_embeddings}, {embedding_dim}" + (padding_idx is { } p ? $", padding_idx={p}" : "");
}
