namespace Sim.Iterations;

/// <summary>One stretch of the critical path: a task, the rank it ran on (-1 for a whole collective) and its seconds.</summary>
public sealed record PathSegment(int Task, string Phase, int Rank, double Seconds, bool IsCommunication);

/// <summary>
/// Walks back from the last task to finish, always through the dependency that finished last (as that rank
/// saw it), and returns the chain in time order. Its seconds add up to the iteration time.
/// </summary>
internal static class CriticalPath
{
    public static IReadOnlyList<PathSegment> Walk(Timeline t)
    {
        var shape = t.Graph.Shape;
        var path = new List<PathSegment>();
        if (shape.Count == 0) return path;
        var current = t.LastTask;
        var rank = RankOf(t, current, -1);
        while (current >= 0)
        {
            var phase = shape.PhaseOf[current];
            path.Add(new PathSegment(current, phase, rank, t.FinishFor(current, rank) - t.Start[current], Phases.IsCommunication(phase)));
            var ctx = shape.KindOf[current] == TaskKind.Compute ? shape.RankOf[current] : -1;
            int pred = -1;
            var best = double.NegativeInfinity;
            for (var k = shape.DependencyStart[current]; k < shape.DependencyStart[current + 1]; k++)
            {
                var d = shape.Dependencies[k];
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
        var shape = t.Graph.Shape;
        if (shape.KindOf[task] == TaskKind.Compute) return shape.RankOf[task];
        if (fromRank >= 0) return fromRank;
        return t.LastRankOf(task);
    }
}
