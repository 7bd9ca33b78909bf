using Sim.Config;
using Sim.Topology;
using Sim.Workload;

namespace Sim.Sharding;

/// <summary>HBM a rank needs for one plan, by what it holds.</summary>
public sealed record MemoryUse(int Rank, long EmbeddingBytes, long OptimizerStateBytes, long DenseBytes, long ActivationBytes, long HostBytes = 0, long SsdBytes = 0)
{
    /// <summary>
    /// HBM bytes; <see cref="HostBytes"/> (rows of UVM tables and SSD tables' DDR caches, in host DDR) and
    /// <see cref="SsdBytes"/> (rows of SSD tables on the node's SSD) are not part of it.
    /// </summary>
    public long TotalBytes => EmbeddingBytes + OptimizerStateBytes + DenseBytes + ActivationBytes;
}

/// <summary>
/// Per-GPU memory: embedding shards and their optimizer state, replicated data-parallel tables with their
/// dense gradient, dense parameters (weights, gradients, optimizer state) and activations of the local batch.
/// </summary>
internal static class MemoryModel
{
    /// <summary>
    /// Per rank, the plan's memory; computed once per plan table list and <see cref="UseKey"/> (everything else
    /// <see cref="Compute"/> reads). Callers must not change the array.
    /// </summary>
    public static MemoryUse[] PerRank(Cluster cluster, DlrmWorkload w, ShardingPlan plan) =>
        IdentityMemo<IReadOnlyList<TablePlan>, UseKey, MemoryUse[]>.Get(Memo, plan.Tables,
            new UseKey(cluster.WorldSize, w.GlobalBatchSize, w.Optimizer, w.DenseParameters, w.ActivationElementsPerSample),
            (cluster, w, plan), static s => Compute(s.cluster, s.w, s.plan));

    /// <summary>What <see cref="Compute"/> reads besides the plan's tables; keep it in step with that method.</summary>
    private readonly record struct UseKey(int World, long GlobalBatch, Optimizer Optimizer, long DenseParameters, double ActivationElementsPerSample);

    private static readonly IdentityMemo<IReadOnlyList<TablePlan>, UseKey, MemoryUse[]>.Table Memo = new();

    private static MemoryUse[] Compute(Cluster cluster, DlrmWorkload w, ShardingPlan plan)
    {
        var world = cluster.WorldSize;
        var emb = new long[world];
        var state = new long[world];
        var host = new long[world];
        var ssd = new long[world];
        var pooledElements = new double[world];
        var b = (double)w.GlobalBatchSize / world;
        var stateBytes = w.Optimizer.StateBytesPerRow();
        foreach (var tp in plan.Tables)
        {
            foreach (var s in tp.Shards)
            {
                var rows = tp.Table.ShardBytes(s.Rows, s.Columns);
                var rowState = checked(s.Rows * stateBytes);
                var inHbm = tp.HbmFraction;
                emb[s.Rank] = checked(emb[s.Rank] + (long)Math.Ceiling(rows * inHbm));
                state[s.Rank] = checked(state[s.Rank] + (long)Math.Ceiling(rowState * inHbm));
                host[s.Rank] = checked(host[s.Rank] + (long)Math.Ceiling((rows + rowState) * tp.DdrFraction));
                // The SSD keeps every row of an SSD table, its DDR-cached ones too (the cache is a copy).
                if (tp.Tier == MemoryTier.Ssd) ssd[s.Rank] = checked(ssd[s.Rank] + rows + rowState);
                if (tp.Scheme == ShardingScheme.DataParallel)
                    state[s.Rank] = checked(state[s.Rank] + s.Elements * 4); // dense fp32 gradient
                else
                    pooledElements[s.Rank] += w.GlobalBatchSize * (double)s.Columns * tp.Table.VectorsPerSample;
            }
        }
        var denseParams = w.DenseParameters;
        var dense = checked(denseParams * (8 + w.Optimizer.StateBytesPerDenseParameter()));
        // Saved activations and their gradients: every dense operator's outputs, the interaction inputs, the received vectors.
        var commonActivations = b * w.ActivationElementsPerSample * 4 * 2;
        return Enumerable.Range(0, world).Select(r =>
        {
            var act = commonActivations + pooledElements[r] * 4 * 2;
            return new MemoryUse(r, emb[r], state[r], dense, (long)Math.Min(act, long.MaxValue / 4), host[r], ssd[r]);
        }).ToArray();
    }

    /// <summary>Throws a one-line error naming the first node whose DDR or SSD overflows, else the first GPU, and by how much.</summary>
    public static void EnsureFits(Cluster cluster, MemoryUse[] use, string planFile)
    {
        var hostCap = cluster.Host.DdrBytes;
        var ssdCap = cluster.Host.Ssd?.CapacityBytes ?? 0;
        for (var node = 0; node < cluster.Nodes; node++)
        {
            long hostUse = 0, ssdUse = 0;
            for (var r = node * cluster.GpusPerNode; r < (node + 1) * cluster.GpusPerNode; r++)
            {
                hostUse = checked(hostUse + use[r].HostBytes);
                ssdUse = checked(ssdUse + use[r].SsdBytes);
            }
            if (hostUse > hostCap)
                throw new SimInputException(planFile, "memory",
                    $"node {node} needs {Units.Bytes(hostUse)} of host DDR for UVM tables and SSD caches but has {Units.Bytes(hostCap)}: over by {hostUse - hostCap} bytes");
            if (ssdUse > ssdCap)
                throw new SimInputException(planFile, "memory",
                    $"node {node} needs {Units.Bytes(ssdUse)} of SSD for SSD tables but has " + (cluster.Host.Ssd is null ? "none (the topology gives no host.ssd)" : Units.Bytes(ssdCap)) +
                    $": short by {ssdUse - ssdCap} bytes on node {node}'s SSD");
        }
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
