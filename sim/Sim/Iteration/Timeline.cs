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
    /// <summary>Per collective task, when each rank's part finished (the event engine fills it; null entries elsewhere).</summary>
    public double[]?[] RankFinish => _rankFinish ??= new double[Start.Length][];
    private double[]?[]? _rankFinish;
    // Analytical: a collective's rank part finishes at its start plus that rank's seconds, computed when asked.
    private bool _analytical;

    public Timeline(IterationGraph graph)
    {
        Graph = graph;
        var n = graph.Count;
        Start = new double[n];
        Finish = new double[n];
    }

    /// <summary>When <paramref name="task"/> is done as far as a task on <paramref name="rank"/> is concerned (-1: all ranks).</summary>
    public double FinishFor(int task, int rank)
    {
        if (rank < 0) return Finish[task];
        if (_rankFinish?[task] is { } rf) return rf[rank];
        return _analytical && Graph.RankSeconds(task) is { } per ? Start[task] + per[rank] : Finish[task];
    }

    /// <summary>Adds to <paramref name="busy"/>[r] the seconds rank r spent in collective <paramref name="task"/> (its own part).</summary>
    public void AddRankSeconds(int task, double[] busy)
    {
        var start = Start[task];
        if (_rankFinish?[task] is { } rf)
            for (var r = 0; r < busy.Length; r++) busy[r] += rf[r] - start;
        else if (_analytical && Graph.RankSeconds(task) is { } per)
            for (var r = 0; r < busy.Length; r++) busy[r] += start + per[r] - start;
        else
            for (var r = 0; r < busy.Length; r++) busy[r] += Finish[task] - start;
    }

    /// <summary>The rank whose part of collective <paramref name="task"/> finished last (-1 for a compute task).</summary>
    public int LastRankOf(int task)
    {
        var n = _rankFinish?[task]?.Length ?? (_analytical ? Graph.RankSeconds(task)?.Length ?? 0 : 0);
        if (n == 0) return -1;
        var best = 0;
        for (var r = 1; r < n; r++) if (FinishFor(task, r) > FinishFor(task, best)) best = r;
        return best;
    }

    /// <summary>When the iteration ends: the latest finish of any task (0 for an empty graph).</summary>
    public double End => LastTask is var last and >= 0 ? Finish[last] : 0;

    /// <summary>The task that finishes last (the first such, by id); -1 for an empty graph.</summary>
    public int LastTask
    {
        get
        {
            if (_last >= 0 || Finish.Length == 0) return _last;
            var last = 0;
            for (var i = 1; i < Finish.Length; i++) if (Finish[i] > Finish[last]) last = i;
            return last;
        }
    }
    // Found by the analytical pass as it goes (blocks run in id order); a timeline the event engine fills is scanned when asked.
    private int _last = -1;

    /// <summary>The analytical timeline: every task starts when its last dependency is done; no contention.</summary>
    public static Timeline Analytical(IterationGraph graph)
    {
        var t = new Timeline(graph) { _analytical = true };
        var shape = graph.Shape;
        var (blockFirst, depStart, deps) = (shape.BlockFirst, shape.BlockDependencyStart, shape.BlockDependencies);
        var (starts, finishes, kinds) = (t.Start, t.Finish, shape.KindOf);
        var world = shape.World;
        var last = -1;
        for (var b = 0; b < blockFirst.Length; b++)
        {
            var first = blockFirst[b];
            if (kinds[first] == TaskKind.Compute)
            {
                // Per rank r: the latest of rank r's task in each compute block it waits on and rank r's part of each collective.
                var start = starts.AsSpan(first, world);
                for (var k = depStart[b]; k < depStart[b + 1]; k++)
                {
                    var d = blockFirst[deps[k]];
                    if (kinds[d] == TaskKind.Compute) RankVectors.MaxOf(start, finishes.AsSpan(d, world));
                    else if (graph.RankSeconds(d) is { } part) RankVectors.MaxOf(start, part, shift: starts[d]);
                    else RankVectors.MaxOf(start, finishes[d]);
                }
                RankVectors.Sum(finishes.AsSpan(first, world), start, graph.SecondsOf(first, world));
                for (var r = first; r < first + world; r++) if (last < 0 || finishes[r] > finishes[last]) last = r;
            }
            else
            {
                // A collective starts when every rank's task of each block it waits on is done.
                double start = 0;
                for (var k = depStart[b]; k < depStart[b + 1]; k++)
                {
                    var d = blockFirst[deps[k]];
                    var n = kinds[d] == TaskKind.Compute ? world : 1;
                    for (var r = 0; r < n; r++) start = Math.Max(start, finishes[d + r]);
                }
                starts[first] = start;
                if (graph.RankSeconds(first) is { } per)
                {
                    var finish = start;
                    for (var r = 0; r < per.Length; r++) finish = r == 0 ? start + per[r] : Math.Max(finish, start + per[r]);
                    finishes[first] = finish;
                }
                else finishes[first] = start + graph.Seconds(first);
                if (last < 0 || finishes[first] > finishes[last]) last = first;
            }
        }
        t._last = last;
        return t;
    }
}
