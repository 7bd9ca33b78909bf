using Sim.Config;
using Sim.Topology;
using Sim.Workload;

namespace Sim.Sharding;

/// <summary>
/// The paper's load balancer in its simplest form (LPT): tables sorted by estimated cost, largest first,
/// each placed whole on the least-loaded GPU that has room. A table that fits on no single GPU is split
/// row-wise over all GPUs. Ties break by table order and rank, so the plan is deterministic.
/// </summary>
public static class GreedyPlanner
{
    public static ShardingPlan Plan(Cluster c, DlrmWorkload w, string workloadFile = "workload")
    {
        var world = c.WorldSize;
        var empty = new ShardingPlan("greedy", []);
        // Memory every rank needs before any table: dense state and activations.
        var baseUse = MemoryModel.PerRank(c, w, empty);
        var free = baseUse.Select(u => c.Gpu.HbmBytes - u.TotalBytes).ToArray();
        var load = new double[world];
        var stateBytes = w.Optimizer.StateBytesPerRow();
        var b = (double)w.GlobalBatchSize / world;
        var placed = new TablePlan?[w.Tables.Count];

        var order = Enumerable.Range(0, w.Tables.Count)
            .OrderByDescending(i => Cost(w, w.Tables[i]))
            .ThenBy(i => i)
            .ToArray();
        foreach (var i in order)
        {
            var t = w.Tables[i];
            // Bytes a whole-table placement adds: the rows, their optimizer state, pooled outputs (fwd + grad).
            var need = t.Bytes + t.Rows * stateBytes + (long)(w.GlobalBatchSize * (double)t.Dim * 8);
            var best = -1;
            for (var r = 0; r < world; r++)
                if (free[r] >= need && (best < 0 || load[r] < load[best])) best = r;
            if (best >= 0)
            {
                placed[i] = TablePlan.Create(t, ShardingScheme.TableWise, [best]);
                free[best] -= need;
                load[best] += Cost(w, t);
                continue;
            }
            var split = TablePlan.Create(t, ShardingScheme.RowWise, Enumerable.Range(0, world).ToArray());
            foreach (var s in split.Shards)
            {
                var shardNeed = s.Elements * t.DType.Bytes() + s.Rows * stateBytes + (long)(w.GlobalBatchSize * (double)t.Dim * 8);
                if (free[s.Rank] < shardNeed)
                    throw new SimInputException(workloadFile, $"tables.{t.Name}",
                        $"table '{t.Name}' ({Units.Bytes(t.Bytes)}) fits on no GPU, not even split row-wise over all {world} GPUs ({Units.Bytes(c.Gpu.HbmBytes)} each)");
                free[s.Rank] -= shardNeed;
                load[s.Rank] += Cost(w, t) / world;
            }
            placed[i] = split;
        }
        return new ShardingPlan("greedy", placed.Select(p => p!).ToList());
    }

    /// <summary>Relative cost of a table: bytes of lookups plus bytes of pooled outputs it must send.</summary>
    public static double Cost(DlrmWorkload w, EmbeddingTable t) =>
        w.GlobalBatchSize * t.Dim * (t.PoolingFactor * t.DType.Bytes() + w.Precision.AllToAllForward.Bytes());
}
