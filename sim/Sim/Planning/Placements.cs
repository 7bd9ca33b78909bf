using Sim.Sharding;
using Sim.Config;
using Sim.Topology;
using Sim.Workload;

namespace Sim.Planning;

/// <summary>Placement choices shared by the planners, and the fallbacks for tables too big for one GPU.</summary>
internal static class Placements
{
    public static TablePlan TableWise(EmbeddingTable t, int rank) => TablePlan.Create(t, ShardingScheme.TableWise, [rank]);

    public static TablePlan RowWise(EmbeddingTable t, IReadOnlyList<int> ranks) => TablePlan.Create(t, ShardingScheme.RowWise, ranks);

    public static TablePlan ColumnWise(EmbeddingTable t, IReadOnlyList<int> ranks) => TablePlan.Create(t, ShardingScheme.ColumnWise, ranks);

    public static TablePlan TableRowWise(Cluster c, EmbeddingTable t, int node) =>
        TablePlan.Create(t, ShardingScheme.TableRowWise, Enumerable.Range(node * c.GpusPerNode, c.GpusPerNode).ToArray());

    public static int[] AllRanks(Cluster c) => Enumerable.Range(0, c.WorldSize).ToArray();

    /// <summary>
    /// The workload's placement hint (<see cref="DlrmWorkload.DefaultScheme"/>: data-parallel for models trained
    /// data-parallel such as C-LSTM, or row-wise over all GPUs, in the table's chosen tier), when the hinted
    /// placement fits; else null.
    /// </summary>
    public static TablePlan? Hinted(PlannerContext ctx, RankLoads loads, EmbeddingTable t)
    {
        var all = AllRanks(ctx.Cluster);
        var hinted = ctx.Workload.DefaultScheme switch
        {
            ShardingScheme.DataParallel => TablePlan.Create(t, ShardingScheme.DataParallel, all),
            ShardingScheme.RowWise when t.Rows >= all.Length => loads.Tiered(RowWise(t, all)),
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
    /// For a table no single GPU can hold in its chosen tier (<see cref="RankLoads.Tiers"/>): row-wise over the fewest
    /// GPUs (2, 4, 8, ... of those with the most room, then all) that hold it, since every row-wise shard also keeps
    /// the global batch's partial pooled outputs; failing that, the same a step down <see cref="TierLadder"/> at a time
    /// (a smaller UVM cache, plain UVM, then, where the cluster has an SSD, SSD with a smaller DDR cache), whole or split. A table that fits none is a one-line error saying which memory is
    /// short and by how much.
    /// </summary>
    public static TablePlan SplitOrSpill(PlannerContext ctx, RankLoads loads, EmbeddingTable t)
    {
        var all = AllRanks(ctx.Cluster);
        var roomiest = all.OrderByDescending(r => loads.Free[r]).ThenBy(r => r).ToArray();
        var chosen = loads.Tiers.StepOf(t);
        var ladder = TierLadder.For(ctx.Cluster);
        for (var i = TierLadder.IndexOf(ladder, chosen.Apply(TableWise(t, 0))); i >= 0; i--)
        {
            var step = ladder[i];
            var first = step == chosen ? 2 : 1;
            for (var k = first; k < all.Length && k <= t.Rows; k *= 2)
            {
                var tp = step.Apply(k == 1 ? TableWise(t, roomiest[0]) : RowWise(t, roomiest[..k].Order().ToArray()));
                if (loads.Fits(tp)) return tp;
            }
            if (t.Rows >= all.Length)
            {
                var rw = step.Apply(RowWise(t, all));
                if (loads.Fits(rw)) return rw;
            }
        }
        var uvm = TableWise(t, 0).InTier(MemoryTier.Uvm);
        var pooled = loads.ShardBytes(uvm, uvm.Shards[0]);
        var hostBytes = loads.ShardHostBytes(uvm, uvm.Shards[0]);
        long hbmFree = loads.Free.Max(), hostFree = loads.HostFree.Sum(x => Math.Max(0, x)), ssdFree = loads.SsdFree.Sum(x => Math.Max(0, x));
        var c = ctx.Cluster;
        var hasSsd = c.Host.Ssd is not null;
        var why = pooled > hbmFree
            ? $"HBM short by {Units.Bytes(pooled - hbmFree)} ({pooled - hbmFree} bytes): its pooled outputs need {Units.Bytes(pooled)} on a GPU, the roomiest has {Units.Bytes(hbmFree)} left"
            : hostBytes > hostFree && (!hasSsd || hostBytes > ssdFree)
                ? $"host DDR short by {Units.Bytes(hostBytes - hostFree)} ({hostBytes - hostFree} bytes): its rows and optimizer state need {Units.Bytes(hostBytes)}, the {c.Nodes} nodes have {Units.Bytes(hostFree)} left" +
                  (hasSsd ? $"; SSD short by {Units.Bytes(hostBytes - ssdFree)} ({hostBytes - ssdFree} bytes): the nodes' SSDs have {Units.Bytes(ssdFree)} left" : "")
                : $"no split of it fits what the tables placed before it left (roomiest GPU {Units.Bytes(hbmFree)} of HBM, roomiest node {Units.Bytes(loads.HostFree.Max())} of host DDR" +
                  (hasSsd ? $", {Units.Bytes(loads.SsdFree.Max())} of SSD)" : ")");
        throw new SimInputException(ctx.WorkloadFile, $"tables.{t.Name}",
            $"table '{t.Name}' ({Units.Bytes(t.Bytes)}) fits nowhere: {why}");
    }

    /// <summary>
    /// The load above which a table is worth splitting: 1.5 × the fair share of one GPU, where with fewer tables
    /// than GPUs the fair share is the mean table (equal tables on separate GPUs are already balanced).
    /// </summary>
    public static double HotThreshold(Cluster c, DlrmWorkload w, RankLoads loads) =>
        1.5 * w.Tables.Sum(t => loads.TableSeconds(loads.Tiered(TableWise(t, 0)))) / Math.Min(c.WorldSize, Math.Max(1, w.Tables.Count));

    /// <summary>
    /// Tables in placement order: first those no single GPU can hold, since splitting them row-wise needs room on
    /// every GPU, which whole tables placed earlier would have taken; then, as LPT scheduling wants, the rest. Each
    /// part most expensive first, ties by workload order.
    /// </summary>
    public static int[] PlacementOrder(DlrmWorkload w, RankLoads loads)
    {
        var roomiest = loads.Free.DefaultIfEmpty(0).Max();
        var roomiestHost = loads.HostFree.DefaultIfEmpty(0).Max();
        var roomiestSsd = loads.SsdFree.DefaultIfEmpty(0).Max();
        return Enumerable.Range(0, w.Tables.Count)
            .Select(i => (i, whole: loads.Tiered(TableWise(w.Tables[i], 0))))
            .Select(x => (x.i, mustSplit: loads.ShardBytes(x.whole, x.whole.Shards[0]) > roomiest || loads.ShardHostBytes(x.whole, x.whole.Shards[0]) > roomiestHost
                    || loads.ShardSsdBytes(x.whole, x.whole.Shards[0]) > roomiestSsd,
                cost: loads.TableSeconds(x.whole)))
            .OrderByDescending(x => x.mustSplit).ThenByDescending(x => x.cost).ThenBy(x => x.i)
            .Select(x => x.i).ToArray();
    }
}
