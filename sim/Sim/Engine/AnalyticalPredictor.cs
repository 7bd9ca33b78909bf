using Sim.Cost;
using Sim.Sharding;

namespace Sim.Engine;

/// <summary>
/// Analytical prediction: the longest path through the iteration DAG with every task at its closed-form
/// cost and no contention. Each phase is credited with the critical-path time spent in it, so the phases
/// add up to the iteration time.
/// </summary>
public static class AnalyticalPredictor
{
    public static Prediction Predict(Scenario s, CostParameters p)
    {
        var graph = IterationGraph.Build(s.Cluster, s.Workload, s.Plan, p);
        var (total, perPhase) = CriticalPath(graph);
        var memory = MemoryModel.PerRank(s.Cluster, s.Workload, s.Plan).Select(m => m.TotalBytes).ToArray();
        var phases = Phases.All.Select(name => new PhaseTime(name, perPhase.GetValueOrDefault(name), Phases.IsCommunication(name))).ToList();
        return new Prediction("analytical", s.Cluster.Name, s.Workload.Name, s.Plan.Name, s.Cluster.WorldSize,
            s.Workload.GlobalBatchSize, total, phases, memory, s.Cluster.Gpu.HbmBytes, p.Source);
    }

    /// <summary>Longest path (tasks are topologically ordered) and the seconds each phase spends on it.</summary>
    public static (double Total, Dictionary<string, double> PerPhase) CriticalPath(IterationGraph graph)
    {
        var tasks = graph.Tasks;
        var finish = new double[tasks.Count];
        var via = new int[tasks.Count];
        for (var i = 0; i < tasks.Count; i++)
        {
            double start = 0;
            via[i] = -1;
            foreach (var d in tasks[i].Dependencies)
                if (finish[d] > start || via[i] < 0 && finish[d] >= start) { start = finish[d]; via[i] = d; }
            finish[i] = start + tasks[i].Seconds;
        }
        var perPhase = new Dictionary<string, double>(StringComparer.Ordinal);
        if (tasks.Count == 0) return (0, perPhase);
        var end = 0;
        for (var i = 1; i < tasks.Count; i++) if (finish[i] > finish[end]) end = i;
        for (var t = end; t >= 0; t = via[t])
            perPhase[tasks[t].Phase] = perPhase.GetValueOrDefault(tasks[t].Phase) + tasks[t].Seconds;
        return (finish[end], perPhase);
    }
}
