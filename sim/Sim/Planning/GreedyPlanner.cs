using Sim.Sharding;
namespace Sim.Planning;

/// <summary>
/// The paper's load balancer in its simplest form (LPT): tables by estimated cost, largest first, each placed
/// whole on the least-loaded GPU that has room; a table no GPU can hold is split row-wise (or spilled to UVM).
/// </summary>
internal sealed class GreedyPlanner : IPlanner
{
    public string Name => "greedy";

    public PlannerResult Plan(PlannerContext context) => TierChoice.Fitted(context, Place);

    private PlannerResult Place(PlannerContext ctx)
    {
        var w = ctx.Workload;
        var loads = new RankLoads(ctx);
        var placed = new TablePlan[w.Tables.Count];
        var world = ctx.Cluster.WorldSize;
        // Least-loaded first, ties to the lowest rank: a heap keeps each table's search O(log W), not O(W).
        var heap = new PriorityQueue<int, (double Load, int Rank)>(world);
        void Rebuild()
        {
            heap.Clear();
            for (var r = 0; r < world; r++) heap.Enqueue(r, (loads.Load[r], r));
        }
        Rebuild();
        var full = new List<int>();
        foreach (var i in Placements.PlacementOrder(w, loads))
        {
            var t = w.Tables[i];
            if (Placements.PlaceHinted(ctx, loads, t) is { } hinted) { placed[i] = hinted; Rebuild(); continue; }
            // A whole table needs the same bytes on any GPU: size it once, then take the least-loaded GPU with room.
            var whole = loads.Tiered(Placements.TableWise(t, 0));
            var need = loads.ShardBytes(whole, whole.Shards[0]);
            var hostNeed = loads.ShardHostBytes(whole, whole.Shards[0]);
            var ssdNeed = loads.ShardSsdBytes(whole, whole.Shards[0]);
            var best = -1;
            full.Clear();
            while (heap.TryDequeue(out var r, out _))
            {
                var node = ctx.Cluster.NodeOf(r);
                if (loads.Free[r] >= need && loads.HostFree[node] >= hostNeed && loads.SsdFree[node] >= ssdNeed) { best = r; break; }
                full.Add(r);
            }
            foreach (var r in full) heap.Enqueue(r, (loads.Load[r], r));
            if (best >= 0)
            {
                placed[i] = loads.Tiered(Placements.TableWise(t, best));
                loads.Add(placed[i]);
                heap.Enqueue(best, (loads.Load[best], best));
            }
            else
            {
                placed[i] = Placements.SplitOrSpill(ctx, loads, t);
                loads.Add(placed[i]);
                Rebuild();
            }
        }
        var plan = new ShardingPlan(Name, placed);
        return new PlannerResult(plan, ctx.PredictIfWanted(plan), $"LPT over {ctx.Cluster.WorldSize} GPUs; imbalance {loads.Max / Math.Max(loads.Mean, 1e-30):0.000}" + TierChoice.Suffix(plan));
    }
}
