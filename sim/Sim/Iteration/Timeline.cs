namespace Sim.Iterations;

/// <summary>
/// When every task of an <see cref="IterationGraph"/> ran: start, finish, and for collectives the finish of
/// each rank's part. Produced by the analytical longest-path pass or by the event engine; both are read the
/// same way by <see cref="CriticalPath"/> and the reports.
/// </summary>
public sealed class Timeline
{
    public IterationGraph Graph { get; }
    public double[] Start { get; }
    public double[] Finish { get; }
    public double[]?[] RankFinish { get; }

    public Timeline(IterationGraph graph)
    {
        Graph = graph;
        var n = graph.Tasks.Count;
        Start = new double[n];
        Finish = new double[n];
        RankFinish = new double[n][];
    }

    /// <summary>When <paramref name="task"/> is done as far as a task on <paramref name="rank"/> is concerned (-1: all ranks).</summary>
    public double FinishFor(int task, int rank) =>
        rank >= 0 && RankFinish[task] is { } rf ? rf[rank] : Finish[task];

    /// <summary>Seconds <paramref name="rank"/> spent in <paramref name="task"/> (a collective's own part for that rank).</summary>
    public double SecondsFor(int task, int rank) => FinishFor(task, rank) - Start[task];

    public double End => Finish.DefaultIfEmpty(0).Max();

    /// <summary>The analytical timeline: every task starts when its last dependency is done; no contention.</summary>
    public static Timeline Analytical(IterationGraph graph)
    {
        var t = new Timeline(graph);
        foreach (var task in graph.Tasks)
        {
            double start = 0;
            var rank = task.Kind == TaskKind.Compute ? task.Rank : -1;
            var deps = task.Dependencies;
            for (var i = 0; i < deps.Count; i++) start = Math.Max(start, t.FinishFor(deps[i], rank)); // no enumerator per task
            t.Start[task.Id] = start;
            if (task.PerRankSeconds is { } per)
            {
                var rf = new double[per.Count];
                for (var r = 0; r < rf.Length; r++) rf[r] = start + per[r];
                t.RankFinish[task.Id] = rf;
                t.Finish[task.Id] = rf.DefaultIfEmpty(start).Max();
            }
            else t.Finish[task.Id] = start + task.Seconds;
        }
        return t;
    }
}
