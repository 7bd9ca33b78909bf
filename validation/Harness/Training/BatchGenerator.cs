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
        // Drawn on the CPU with a CPU generator (the same numbers on every backend), then moved: a seeded
        // generator must live on the device it draws on, and the batch is made before the iteration is timed.
        using var gen = new Generator(Seeds.Derive(seed, Seeds.DataStream, iteration, rank));
        var dense = MoveTo(torch.rand([localBatch, w.DenseFeatures], dtype: ScalarType.Float32, generator: gen), device);
        using var bits = torch.randint(0, 2, [localBatch], dtype: ScalarType.Int64, generator: gen);
        var labels = MoveTo(bits.to(ScalarType.Float32), device);
        var indices = new Tensor[w.Tables.Count];
        for (var t = 0; t < indices.Length; t++)
        {
            var table = w.Tables[t];
            indices[t] = MoveTo(torch.randint(0, table.Rows, [localBatch * Lookups(table)], dtype: ScalarType.Int64, generator: gen), device);
        }
        return new Batch { Dense = dense, Labels = labels, Indices = indices };
    }

    /// <summary>The tensor on <paramref name="device"/>; a host copy left behind is freed (on the CPU it is the same tensor).</summary>
    private static Tensor MoveTo(Tensor t, Device device)
    {
        if (t.device_type == device.type && (device.type == DeviceType.CPU || t.device_index == device.index)) return t;
        var moved = t.to(device);
        t.Dispose();
        return moved;
    }
}
