namespace Sim.Sharding.Planners;

/// <summary>
/// The paper's load balancer in its simplest form (LPT): tables by estimated cost, largest first, each placed
/// whole on the least-loaded GPU that has room; a table no GPU can hold is split row-wise (or spilled to UVM).
/// </summary>
public sealed class GreedyPlanner : IPlanner
{
    public string Name => "greedy";

    public PlannerResult Plan(PlannerContext ctx)
    {
        var w = ctx.Workload;
        var loads = new RankLoads(ctx.Cluster, w, ctx.Cost);
        var placed = new TablePlan[w.Tables.Count];
        foreach (var i in Placements.ByCostDescending(w, loads))
        {
            var t = w.Tables[i];
            if (Placements.PlaceHinted(ctx, loads, t) is { } hinted) { placed[i] = hinted; continue; }
            // A whole table needs the same bytes on any GPU: size it once, then scan the GPUs without allocating.
            var whole = Placements.TableWise(t, 0);
            var need = loads.ShardBytes(whole, whole.Shards[0]);
            var best = -1;
            for (var r = 0; r < ctx.Cluster.WorldSize; r++)
                if (loads.Free[r] >= need && (best < 0 || loads.Load[r] < loads.Load[best])) best = r;
            placed[i] = best >= 0 ? Placements.TableWise(t, best) : Placements.SplitOrSpill(ctx, loads, t);
            loads.Add(placed[i]);
        }
        var plan = new ShardingPlan(Name, placed);
        return new PlannerResult(plan, ctx.PredictIfWanted(plan), $"LPT over {ctx.Cluster.WorldSize} GPUs; imbalance {loads.Max / Math.Max(loads.Mean, 1e-30):0.000}");
    }
}
