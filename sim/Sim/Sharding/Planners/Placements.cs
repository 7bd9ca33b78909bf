using Sim.Config;
using Sim.Topology;
using Sim.Workload;

namespace Sim.Sharding.Planners;

/// <summary>Placement choices shared by the planners, and the fallbacks for tables too big for one GPU.</summary>
public static class Placements
{
    public static TablePlan TableWise(EmbeddingTable t, int rank) => TablePlan.Create(t, ShardingScheme.TableWise, [rank]);

    public static TablePlan RowWise(EmbeddingTable t, IReadOnlyList<int> ranks) => TablePlan.Create(t, ShardingScheme.RowWise, ranks);

    public static TablePlan ColumnWise(EmbeddingTable t, IReadOnlyList<int> ranks) => TablePlan.Create(t, ShardingScheme.ColumnWise, ranks);

    public static TablePlan TableRowWise(Cluster c, EmbeddingTable t, int node) =>
        TablePlan.Create(t, ShardingScheme.TableRowWise, Enumerable.Range(node * c.GpusPerNode, c.GpusPerNode).ToArray());

    public static int[] AllRanks(Cluster c) => Enumerable.Range(0, c.WorldSize).ToArray();

    /// <summary>
    /// The workload's placement hint (<see cref="DlrmWorkload.DefaultScheme"/>: data-parallel for models trained
    /// data-parallel such as C-LSTM, or row-wise over all GPUs), when the hinted placement fits; else null.
    /// </summary>
    public static TablePlan? Hinted(PlannerContext ctx, RankLoads loads, EmbeddingTable t)
    {
        var all = AllRanks(ctx.Cluster);
        var hinted = ctx.Workload.DefaultScheme switch
        {
            ShardingScheme.DataParallel => TablePlan.Create(t, ShardingScheme.DataParallel, all),
            ShardingScheme.RowWise when t.Rows >= all.Length => RowWise(t, all),
            _ => null,
        };
        return hinted is not null && loads.Fits(hinted) ? hinted : null;
    }

    /// <summary>Places the table as the workload hints, if the hint fits, and books it on the loads; null otherwise.</summary>
    public static TablePlan? PlaceHinted(PlannerContext ctx, RankLoads loads, EmbeddingTable t)
    {
        var hinted = Hinted(ctx, loads, t);
        if (hinted is not null) loads.Add(hinted);
        return hinted;
    }

    /// <summary>
    /// For a table no single GPU can hold: row-wise in HBM over the fewest GPUs (2, 4, 8, ... of those with the most
    /// room) that hold it, since every row-wise shard also keeps the global batch's partial pooled outputs; then
    /// row-wise over all GPUs with a UVM cache, then plain UVM. A table that fits none is a one-line error naming it.
    /// </summary>
    public static TablePlan SplitOrSpill(PlannerContext ctx, RankLoads loads, EmbeddingTable t)
    {
        var all = AllRanks(ctx.Cluster);
        var roomiest = all.OrderByDescending(r => loads.Free[r]).ThenBy(r => r).ToArray();
        for (var k = 2; k < all.Length && k <= t.Rows; k *= 2)
        {
            var rw = RowWise(t, roomiest[..k].Order().ToArray());
            if (loads.Fits(rw)) return rw;
        }
        if (t.Rows >= all.Length)
        {
            var rw = RowWise(t, all);
            foreach (var candidate in new[] { rw, rw.InTier(MemoryTier.UvmCaching, MemoryTiers.DefaultCacheFraction), rw.InTier(MemoryTier.Uvm) })
                if (loads.Fits(candidate) && HostFits(ctx, candidate)) return candidate;
        }
        throw new SimInputException(ctx.WorkloadFile, $"tables.{t.Name}",
            $"table '{t.Name}' ({Units.Bytes(t.Bytes)}) fits nowhere: not on one GPU, not split row-wise over all {all.Length} GPUs " +
            $"({Units.Bytes(ctx.Cluster.Gpu.HbmBytes)} HBM each), not in host memory ({Units.Bytes(ctx.Cluster.Host.DdrBytes)} DDR per node)");
    }

    /// <summary>Whether a UVM placement's rows fit in host memory (checked against what one table needs per node).</summary>
    private static bool HostFits(PlannerContext ctx, TablePlan tp)
    {
        if (tp.Tier == MemoryTier.Hbm) return true;
        var perNode = tp.Shards.GroupBy(s => ctx.Cluster.NodeOf(s.Rank)).Max(g => g.Sum(s => s.Elements * tp.Table.DType.Bytes()));
        return perNode <= ctx.Cluster.Host.DdrBytes;
    }

    /// <summary>
    /// The load above which a table is worth splitting: 1.5 × the fair share of one GPU, where with fewer tables
    /// than GPUs the fair share is the mean table (equal tables on separate GPUs are already balanced).
    /// </summary>
    public static double HotThreshold(Cluster c, DlrmWorkload w, RankLoads loads) =>
        1.5 * w.Tables.Sum(t => loads.TableSeconds(TableWise(t, 0))) / Math.Min(c.WorldSize, Math.Max(1, w.Tables.Count));

    /// <summary>
    /// Tables in placement order: first those no single GPU can hold, since splitting them row-wise needs room on
    /// every GPU, which whole tables placed earlier would have taken; then, as LPT scheduling wants, the rest. Each
    /// part most expensive first, ties by workload order.
    /// </summary>
    public static int[] PlacementOrder(DlrmWorkload w, RankLoads loads)
    {
        var roomiest = loads.Free.DefaultIfEmpty(0).Max();
        return Enumerable.Range(0, w.Tables.Count)
            .Select(i => (i, whole: TableWise(w.Tables[i], 0)))
            .Select(x => (x.i, mustSplit: loads.ShardBytes(x.whole, x.whole.Shards[0]) > roomiest, cost: loads.TableSeconds(x.whole)))
            .OrderByDescending(x => x.mustSplit).ThenByDescending(x => x.cost).ThenBy(x => x.i)
            .Select(x => x.i).ToArray();
    }
}
