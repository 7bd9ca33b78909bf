namespace Sim.Iterations;

/// <summary>One stretch of the critical path: a task, the rank it ran on (-1 for a whole collective) and its seconds.</summary>
public sealed record PathSegment(int Task, string Phase, int Rank, double Seconds, bool IsCommunication);

/// <summary>
/// Walks back from the last task to finish, always through the dependency that finished last (as that rank
/// saw it), and returns the chain in time order. Its seconds add up to the iteration time.
/// </summary>
public static class CriticalPath
{
    public static IReadOnlyList<PathSegment> Walk(Timeline t)
    {
        var tasks = t.Graph.Tasks;
        var path = new List<PathSegment>();
        if (tasks.Count == 0) return path;
        var current = 0;
        for (var i = 1; i < tasks.Count; i++) if (t.Finish[i] > t.Finish[current]) current = i;
        var rank = RankOf(t, current, -1);
        while (current >= 0)
        {
            var task = tasks[current];
            path.Add(new PathSegment(current, task.Phase, rank, t.FinishFor(current, rank) - t.Start[current], Phases.IsCommunication(task.Phase)));
            var ctx = task.Kind == TaskKind.Compute ? task.Rank : -1;
            int pred = -1;
            var best = double.NegativeInfinity;
            foreach (var d in task.Dependencies)
            {
                var f = t.FinishFor(d, ctx);
                if (f > best) { best = f; pred = d; }
            }
            if (pred >= 0) rank = RankOf(t, pred, ctx);
            current = pred;
        }
        path.Reverse();
        return path;
    }

    /// <summary>The rank through which the path enters a task: its own rank, the rank it was reached from, or a collective's slowest rank.</summary>
    private static int RankOf(Timeline t, int task, int fromRank)
    {
        var k = t.Graph.Tasks[task];
        if (k.Kind == TaskKind.Compute) return k.Rank;
        if (fromRank >= 0) return fromRank;
        if (t.RankFinish[task] is not { } rf) return -1;
        var best = 0;
        for (var r = 1; r < rf.Length; r++) if (rf[r] > rf[best]) best = r;
        return best;
    }
}
