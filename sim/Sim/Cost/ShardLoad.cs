using Sim.Workload;

namespace Sim.Cost;

/// <summary>
/// What one shard's lookups ask of the operator models (<see cref="Operators.OperatorCosts"/>): calls, lookups, bytes of
/// rows gathered, bytes of pooled vectors, bytes of distinct rows updated (with their optimizer state).
/// Distinct rows: the expected number of distinct rows among n uniform draws from R rows, R·(1 − e^(−n/R)); skewed
/// access touches fewer, so this is an upper bound there.
/// </summary>
public readonly record struct ShardLoad(double Lookups, double LookupBytes, double PooledBytes, double UniqueRowBytes,
    double Rows, double Columns, double Samples, bool DataParallel)
{
    public static ShardLoad Of(EmbeddingTable t, long rows, int columns, double samples, double lookupsPerSample,
        double vectorsPerSample, bool dataParallel, int stateBytesPerRow)
    {
        var lookups = samples * lookupsPerSample;
        var rowBytes = t.RowBytes(columns);
        var unique = rows > 0 ? rows * -double.ExpM1(-lookups / rows) : 0;
        return new ShardLoad(lookups, lookups * rowBytes, samples * vectorsPerSample * columns * 4.0,
            unique * (rowBytes + stateBytesPerRow), rows, columns, samples, dataParallel);
    }

}
