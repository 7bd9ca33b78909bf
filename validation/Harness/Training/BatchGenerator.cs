using Sim.Workload;
using TorchSharp;
using static TorchSharp.torch;

namespace Sim.Harness.Training;

/// <summary>
/// One rank's local batch: b samples of dense features and labels, and for every table
/// <see cref="BatchGenerator.Lookups"/>(table) indices per sample (bag i is indices [i*L, (i+1)*L)).
/// </summary>
public sealed class Batch : IDisposable
{
    public required Tensor Dense { get; init; }
    public required Tensor Labels { get; init; }
    public required Tensor[] Indices { get; init; }

    public void Dispose()
    {
        Dense.Dispose();
        Labels.Dispose();
        foreach (var t in Indices) t.Dispose();
    }
}

/// <summary>
/// Synthetic data, a pure function of (seed, iteration, rank): a generator on the rank's device seeded from those
/// three draws dense features uniform in [0, 1), labels in {0, 1}, and indices uniform over each table's rows.
/// The unsharded reference concatenates ranks 0..W-1 to get the same global batch.
/// </summary>
public static class BatchGenerator
{
    /// <summary>Lookups per sample of a table: its pooling factor rounded, at least 1.</summary>
    public static int Lookups(EmbeddingTable t) => (int)Math.Max(1, Math.Round(t.PoolingFactor, MidpointRounding.AwayFromZero));

    public static Batch Generate(DlrmWorkload w, long seed, int iteration, int rank, long localBatch, Device device)
    {
        using var gen = new Generator(Seeds.Derive(seed, Seeds.DataStream, iteration, rank), device);
        var dense = torch.rand([localBatch, w.DenseFeatures], dtype: ScalarType.Float32, device: device, generator: gen);
        using var bits = torch.randint(0, 2, [localBatch], dtype: ScalarType.Int64, device: device, generator: gen);
        var labels = bits.to(ScalarType.Float32);
        var indices = new Tensor[w.Tables.Count];
        for (var t = 0; t < indices.Length; t++)
        {
            var table = w.Tables[t];
            indices[t] = torch.randint(0, table.Rows, [localBatch * Lookups(table)], dtype: ScalarType.Int64, device: device, generator: gen);
        }
        return new Batch { Dense = dense, Labels = labels, Indices = indices };
    }
}
