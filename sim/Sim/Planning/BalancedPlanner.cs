using Sim.Sharding;
namespace Sim.Planning;

/// <summary>
/// Memory- and cost-aware LPT: each table goes where the larger of its load share and its memory share
/// ends lowest, and a hot table (<see cref="Placements.HotThreshold"/>) is split row-wise over all GPUs so
/// that no single GPU carries it.
/// </summary>
internal sealed class BalancedPlanner : IPlanner
{
    public string Name => "balanced";

    public PlannerResult Plan(PlannerContext context) => TierChoice.Fitted(context, Place);

    private PlannerResult Place(PlannerContext ctx)
    {
        var c = ctx.Cluster;
        var w = ctx.Workload;
        var loads = new RankLoads(ctx);
        var order = Placements.PlacementOrder(w, loads);
        var fair = w.Tables.Sum(t => loads.TableSeconds(loads.Tiered(Placements.TableWise(t, 0)))) / c.WorldSize;
        var hotAbove = Placements.HotThreshold(c, w, loads);
        var capacity = loads.Free.ToArray();
        var placed = new TablePlan[w.Tables.Count];
        foreach (var i in order)
        {
            var t = w.Tables[i];
            if (Placements.PlaceHinted(ctx, loads, t) is { } hinted) { placed[i] = hinted; continue; }
            TablePlan? best = null;
            var bestScore = double.MaxValue;
            var hot = loads.TableSeconds(loads.Tiered(Placements.TableWise(t, 0))) > hotAbove && t.Rows >= c.WorldSize;
            if (!hot)
            {
                for (var r = 0; r < c.WorldSize; r++)
                {
                    var tw = loads.Tiered(Placements.TableWise(t, r));
                    if (!loads.Fits(tw)) continue;
                    var load = (loads.Load[r] + loads.ShardSeconds(tw, tw.Shards[0])) / Math.Max(fair, 1e-30);
                    var mem = 1 - (double)(loads.Free[r] - loads.ShardBytes(tw, tw.Shards[0])) / Math.Max(capacity[r], 1);
                    var score = Math.Max(load, mem);
                    if (score < bestScore) { bestScore = score; best = tw; }
                }
            }
            if (best is null)
            {
                var rw = loads.Tiered(Placements.RowWise(t, Placements.AllRanks(c)));
                best = t.Rows >= c.WorldSize && loads.Fits(rw) ? rw : Placements.SplitOrSpill(ctx, loads, t);
            }
            placed[i] = best;
            loads.Add(best);
        }
        var plan = new ShardingPlan(Name, placed);
        return new PlannerResult(plan, ctx.PredictIfWanted(plan), $"memory- and cost-aware LPT; imbalance {loads.Max / Math.Max(loads.Mean, 1e-30):0.000}" + TierChoice.Suffix(plan));
    }
}
