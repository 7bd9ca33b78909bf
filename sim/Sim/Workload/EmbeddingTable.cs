using Sim.Hardware;
namespace Sim.Workload;

/// <summary>
/// One embedding table: rows x dim of <see cref="DType"/>, looked up <see cref="PoolingFactor"/> times per
/// sample on average and sum-pooled into one dim-wide vector per sample.
/// </summary>
/// <remarks>
/// Optional features (all default to the plain pooled table): a <see cref="Sequence"/> makes the table a
/// per-time-step feature (one pooled bag of <see cref="PoolingFactor"/> rows per step, no pooling across steps);
/// <see cref="NegativeSamples"/> k makes it the output table of a sampled-softmax (CeWE, word2vec) head that looks
/// up the positive row and k negatives per sample; <see cref="Access"/> describes how skewed the row accesses are;
/// int8 tables are row-wise quantised and store a scale and a bias per row (<see cref="RowOverheadBytes"/>).
/// </remarks>
public sealed record EmbeddingTable(string Name, long Rows, int Dim, double PoolingFactor, DType DType)
{
    /// <summary>How lookups spread over the rows; uniform unless the workload says otherwise.</summary>
    public AccessSkew Access { get; init; } = AccessSkew.Uniform;

    /// <summary>Per-time-step lookups without pooling across steps; null for a plain pooled feature.</summary>
    public SequenceFeature? Sequence { get; init; }

    /// <summary>Negative samples per positive lookup (0: none). Multiplies the lookups and output vectors by 1 + k.</summary>
    public int NegativeSamples { get; init; }

    /// <summary>Dtype of the per-row scale and bias of an int8 row-wise quantised table (FBGEMM's fused 8-bit rows use fp32).</summary>
    public DType ScaleBiasDType { get; init; } = DType.Fp32;

    public long Parameters => checked(Rows * Dim);

    /// <summary>Storage bytes: the elements, plus a scale and a bias per row for int8 tables.</summary>
    public long Bytes => checked(Parameters * DType.Bytes() + Rows * RowOverheadBytes);

    /// <summary>Bytes stored per row beside the elements: scale + bias for int8 row-wise quantisation, else 0.</summary>
    public int RowOverheadBytes => DType == DType.Int8 ? 2 * ScaleBiasDType.Bytes() : 0;

    /// <summary>Bytes one lookup reads for <paramref name="columns"/> columns of a row (with the row's scale and bias).</summary>
    public double RowBytes(int columns) => (double)columns * DType.Bytes() + RowOverheadBytes;

    /// <summary>Storage bytes of a block of rows x columns (a shard): what a rank holds for it.</summary>
    public long ShardBytes(long rows, int columns) => checked(rows * columns * DType.Bytes() + rows * RowOverheadBytes);

    public bool IsSequence => Sequence is not null;

    /// <summary>
    /// Vectors this table contributes per sample: 1 for a pooled feature, the mean sequence length for a sequence
    /// feature, times 1 + <see cref="NegativeSamples"/>. Each vector is one pooled bag of <see cref="PoolingFactor"/> rows.
    /// These are what the forward all-to-all moves.
    /// </summary>
    public double VectorsPerSample => (Sequence?.MeanLength ?? 1.0) * (1 + NegativeSamples);

    /// <summary>Rows looked up per sample: <see cref="PoolingFactor"/> x <see cref="VectorsPerSample"/>.</summary>
    public double LookupsPerSample => PoolingFactor * VectorsPerSample;

    /// <summary>
    /// Expected fraction of lookups served by a cache that holds the hottest <paramref name="cacheFraction"/> of
    /// the rows (an ideal LFU or static cache), from <see cref="Access"/>: the fraction itself when uniform.
    /// </summary>
    public double HitRate(double cacheFraction) => Access.HitRate(Rows, cacheFraction);
}
