using Sim.Cost;
using Sim.Sharding;

namespace Sim.Engine;

/// <summary>
/// Analytical prediction: the longest path through the iteration DAG with every task at its closed-form
/// cost and no contention. Fast enough to sit inside a plan search.
/// </summary>
public static class AnalyticalPredictor
{
    public static Prediction Predict(Scenario s, CostParameters p)
    {
        var graph = IterationGraph.Build(s.Cluster, s.Workload, s.Plan, p);
        return Prediction.From("analytical", s, Timeline.Analytical(graph), Memory(s), p.Source);
    }

    /// <summary>Only the iteration time: what planners call thousands of times.</summary>
    public static double IterationSeconds(Scenario s, CostParameters p) =>
        Timeline.Analytical(IterationGraph.Build(s.Cluster, s.Workload, s.Plan, p)).End;

    public static long[] Memory(Scenario s) =>
        MemoryModel.PerRank(s.Cluster, s.Workload, s.Plan).Select(m => m.TotalBytes).ToArray();
}
