using Sim.Sharding;
namespace Sim.Planning;

/// <summary>
/// Node first, then GPU: tables go by LPT to the least-loaded node; inside the node a table goes whole to
/// the least-loaded GPU, or, when it is hot (<see cref="Placements.HotThreshold"/>) or too big for one GPU, row-wise over
/// the node's GPUs (table-row-wise), which keeps its partial sums on NVLink.
/// </summary>
internal sealed class HierarchicalPlanner : IPlanner
{
    public string Name => "hierarchical";

    public PlannerResult Plan(PlannerContext context) => TierChoice.Fitted(context, Place);

    private PlannerResult Place(PlannerContext ctx)
    {
        var c = ctx.Cluster;
        var w = ctx.Workload;
        var g = c.GpusPerNode;
        var loads = new RankLoads(ctx);
        var hotAbove = Placements.HotThreshold(c, w, loads);
        var nodeLoad = new double[c.Nodes];
        var placed = new TablePlan[w.Tables.Count];
        foreach (var i in Placements.PlacementOrder(w, loads))
        {
            var t = w.Tables[i];
            if (Placements.PlaceHinted(ctx, loads, t) is { } hinted) { placed[i] = hinted; continue; }
            TablePlan? choice = null;
            foreach (var node in Enumerable.Range(0, c.Nodes).OrderBy(n => nodeLoad[n]).ThenBy(n => n))
            {
                var ranks = Enumerable.Range(node * g, g).OrderBy(r => loads.Load[r]).ThenBy(r => r).ToArray();
                var splittable = g > 1 && t.Rows >= g;
                var hot = splittable && loads.TableSeconds(loads.Tiered(Placements.TableWise(t, 0))) > hotAbove;
                if (!hot)
                    choice = ranks.Select(r => loads.Tiered(Placements.TableWise(t, r))).FirstOrDefault(loads.Fits);
                if (choice is null && splittable)
                {
                    var twrw = loads.Tiered(Placements.TableRowWise(c, t, node));
                    if (loads.Fits(twrw)) choice = twrw;
                }
                if (choice is not null) break;
            }
            placed[i] = choice ?? Placements.SplitOrSpill(ctx, loads, t);
            loads.Add(placed[i]);
            foreach (var s in placed[i].Shards) nodeLoad[c.NodeOf(s.Rank)] += loads.ShardSeconds(placed[i], s);
        }
        var plan = new ShardingPlan(Name, placed);
        return new PlannerResult(plan, ctx.PredictIfWanted(plan), $"node-then-GPU LPT; imbalance {loads.Max / Math.Max(loads.Mean, 1e-30):0.000}" + TierChoice.Suffix(plan));
    }
}
