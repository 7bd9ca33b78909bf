using Sim.Config;
using Sim.Topology;
using Sim.Workload;

namespace Sim.Sharding;

/// <summary>HBM a rank needs for one plan, by what it holds.</summary>
public sealed record MemoryUse(int Rank, long EmbeddingBytes, long OptimizerStateBytes, long DenseBytes, long ActivationBytes)
{
    public long TotalBytes => EmbeddingBytes + OptimizerStateBytes + DenseBytes + ActivationBytes;
}

/// <summary>
/// Per-GPU memory: embedding shards and their optimizer state, replicated data-parallel tables with their
/// dense gradient, dense parameters (weights, gradients, optimizer state) and activations of the local batch.
/// </summary>
public static class MemoryModel
{
    public static MemoryUse[] PerRank(Cluster cluster, DlrmWorkload w, ShardingPlan plan)
    {
        var world = cluster.WorldSize;
        var emb = new long[world];
        var state = new long[world];
        var pooledElements = new double[world];
        var b = (double)w.GlobalBatchSize / world;
        var stateBytes = w.Optimizer.StateBytesPerRow();
        foreach (var tp in plan.Tables)
        {
            foreach (var s in tp.Shards)
            {
                var e = tp.Table.DType.Bytes();
                emb[s.Rank] = checked(emb[s.Rank] + s.Elements * e);
                state[s.Rank] = checked(state[s.Rank] + s.Rows * stateBytes);
                if (tp.Scheme == ShardingScheme.DataParallel)
                    state[s.Rank] = checked(state[s.Rank] + s.Elements * 4); // dense fp32 gradient
                else
                    pooledElements[s.Rank] += w.GlobalBatchSize * (double)s.Columns;
            }
        }
        var denseParams = w.DenseParameters;
        var dense = checked(denseParams * (8 + w.Optimizer.StateBytesPerDenseParameter()));
        // Saved activations and their gradients: every layer output, the interaction inputs, the received pooled vectors.
        var layerOutputs = w.DenseLayers.Sum(l => (double)l.Out) + w.InteractionVectors * (double)w.InteractionDim + w.InteractionOutputs;
        var commonActivations = b * layerOutputs * 4 * 2;
        return Enumerable.Range(0, world).Select(r =>
        {
            var act = commonActivations + pooledElements[r] * 4 * 2;
            return new MemoryUse(r, emb[r], state[r], dense, (long)Math.Min(act, long.MaxValue / 4));
        }).ToArray();
    }

    /// <summary>Throws a one-line error naming the first GPU that overflows and by how much.</summary>
    public static void EnsureFits(Cluster cluster, MemoryUse[] use, string planFile)
    {
        var cap = cluster.Gpu.HbmBytes;
        var worst = use.OrderByDescending(u => u.TotalBytes).ThenBy(u => u.Rank).First();
        if (worst.TotalBytes <= cap) return;
        var over = use.Count(u => u.TotalBytes > cap);
        throw new SimInputException(planFile, "memory",
            $"{cluster.DescribeRank(worst.Rank)} needs {Units.Bytes(worst.TotalBytes)} ({worst.TotalBytes} bytes: embeddings {worst.EmbeddingBytes}, " +
            $"optimizer state {worst.OptimizerStateBytes}, dense {worst.DenseBytes}, activations {worst.ActivationBytes}) but has {Units.Bytes(cap)}: " +
            $"over by {worst.TotalBytes - cap} bytes" + (over > 1 ? $" ({over} GPUs overflow)" : ""));
    }
}
