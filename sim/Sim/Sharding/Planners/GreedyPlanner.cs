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
            if (Placements.Hinted(ctx, loads, t) is { } hinted)
            {
                placed[i] = hinted;
                loads.Add(hinted);
                continue;
            }
            TablePlan? best = null;
            for (var r = 0; r < ctx.Cluster.WorldSize; r++)
            {
                var tw = Placements.TableWise(t, r);
                if (loads.Fits(tw) && (best is null || loads.Load[r] < loads.Load[best.Shards[0].Rank])) best = tw;
            }
            placed[i] = best ?? Placements.SplitOrSpill(ctx, loads, t);
            loads.Add(placed[i]);
        }
        var plan = new ShardingPlan(Name, placed);
        return new PlannerResult(plan, ctx.Predict(plan), $"LPT over {ctx.Cluster.WorldSize} GPUs; imbalance {loads.Max / Math.Max(loads.Mean, 1e-30):0.000}");
    }
}
