namespace Sim.Iterations;

/// <summary>
/// Records the structure of an iteration DAG as <see cref="IterationGraph.Build"/> appends its blocks. A task depends
/// on the previous task of its own stream on each rank; with a sequential schedule every task also depends on the
/// previous task of any stream, so the iteration is one chain per rank. Extra dependencies are passed explicitly: a
/// compute block's id stands for that phase's task on the same rank (or on every rank, for a collective).
/// </summary>
internal sealed class ShapeRecorder(int world)
{
    private readonly List<string> _phase = new(8 * world + 16);
    private readonly List<TaskKind> _kind = new(8 * world + 16);
    private readonly List<StreamKind> _stream = new(8 * world + 16);
    private readonly List<int> _rank = new(8 * world + 16);
    private readonly List<int> _depStart = new(8 * world + 17) { 0 };
    private readonly List<int> _deps = new(24 * world + 16);
    private readonly Dictionary<StreamKind, int[]> _lastOnStream = new();
    // A compute task id per rank, or one collective id for all ranks: the last task any stream issued.
    private readonly int[] _lastAny = Enumerable.Repeat(-1, world).ToArray();
    private bool _sequential = true;

    private int[] Last(StreamKind s) => _lastOnStream.TryGetValue(s, out var a) ? a : _lastOnStream[s] = Enumerable.Repeat(-1, world).ToArray();

    /// <summary>Called once the schedule says streams may overlap.</summary>
    public void AllowOverlap() => _sequential = false;

    public void Compute(string phase, int[] extraDeps)
    {
        var last = Last(StreamKind.Compute);
        var first = _phase.Count;
        Span<int> deps = stackalloc int[2 + extraDeps.Length];
        for (var r = 0; r < world; r++)
        {
            // A handful of dependencies per task: a sorted, duplicate-free run, built in place.
            var n = 0;
            if (last[r] >= 0) deps[n++] = last[r];
            if (_sequential && _lastAny[r] >= 0) deps[n++] = _lastAny[r];
            foreach (var d in extraDeps) if (d >= 0) deps[n++] = _kind[d] == TaskKind.Compute ? d + r - _rank[d] : d;
            deps[..n].Sort();
            var unique = 0;
            for (var i = 0; i < n; i++) if (unique == 0 || deps[unique - 1] != deps[i]) deps[unique++] = deps[i];
            Add(phase, TaskKind.Compute, StreamKind.Compute, r, deps[..unique]);
            last[r] = first + r;
            _lastAny[r] = first + r;
        }
    }

    public void Collective(string phase, StreamKind stream, int[] extraDeps)
    {
        var id = _phase.Count;
        var deps = new List<int>(2 * world + extraDeps.Length);
        foreach (var d in Last(stream)) if (d >= 0) deps.Add(d);
        if (_sequential) foreach (var d in _lastAny) if (d >= 0) deps.Add(d);
        foreach (var d in extraDeps)
        {
            if (d < 0) continue;
            if (_kind[d] == TaskKind.Compute)
                for (var r = 0; r < world; r++) deps.Add(d + r - _rank[d]); // every rank's task of that phase
            else deps.Add(d);
        }
        deps.Sort();
        var unique = new List<int>(deps.Count);
        foreach (var d in deps) if (unique.Count == 0 || unique[^1] != d) unique.Add(d);
        Add(phase, TaskKind.Collective, stream, -1, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(unique));
        Array.Fill(Last(stream), id);
        Array.Fill(_lastAny, id);
    }

    private void Add(string phase, TaskKind kind, StreamKind stream, int rank, ReadOnlySpan<int> deps)
    {
        _phase.Add(phase); _kind.Add(kind); _stream.Add(stream); _rank.Add(rank);
        _deps.AddRange(deps);
        _depStart.Add(_deps.Count);
    }

    public IterationShape Build() =>
        new(world, _phase.ToArray(), _kind.ToArray(), _stream.ToArray(), _rank.ToArray(), _depStart.ToArray(), _deps.ToArray());
}
