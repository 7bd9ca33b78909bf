namespace Sim.Workload;

/// <summary>
/// One embedding table: rows x dim of <see cref="DType"/>, looked up <see cref="PoolingFactor"/> times per
/// sample on average and sum-pooled into one dim-wide vector per sample.
/// </summary>
public sealed record EmbeddingTable(string Name, long Rows, int Dim, double PoolingFactor, DType DType)
{
    public long Parameters => checked(Rows * Dim);
    public long Bytes => checked(Parameters * DType.Bytes());
}
