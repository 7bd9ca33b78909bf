using Sim.Cost;

namespace Sim.Engine;

/// <summary>Event-driven prediction: the iteration DAG replayed by the <see cref="EventEngine"/> with flow-level contention.</summary>
public static class EventPredictor
{
    public static (Prediction Prediction, EngineRun Run) Predict(Scenario s, CostParameters p, bool recordFlows = false)
    {
        var graph = IterationGraph.Build(s.Cluster, s.Workload, s.Plan, p);
        var run = EventEngine.Run(s.Cluster, graph, p, recordFlows);
        return (Prediction.From("event", s, run.Timeline, AnalyticalPredictor.Memory(s), p.Source), run);
    }
}
