namespace Sim.Traces;

/// <summary>
/// One rank's PyTorch profiler trace as Sim keeps it: host operators and annotations nested per thread, device work
/// linked to the operator that launched it (Kineto's External id), the GPU, and the rank where the trace records it.
/// </summary>
/// <param name="File">The file as shown to the user (repo-relative where possible).</param>
/// <param name="DroppedEvents">Complete events of categories Sim does not read, by category (launches, Python frames).</param>
internal sealed class KinetoTrace(string file, int? rank, int? worldSize, TraceGpu? gpu, IReadOnlyList<CpuOp> ops, IReadOnlyList<GpuKernel> kernels,
    IReadOnlyDictionary<string, long> droppedEvents)
{
    public string File { get; } = file;
    public int? Rank { get; } = rank;
    public int? WorldSize { get; } = worldSize;
    public TraceGpu? Gpu { get; } = gpu;
    public IReadOnlyList<CpuOp> Ops { get; } = ops;
    public IReadOnlyList<GpuKernel> Kernels { get; } = kernels;
    public IReadOnlyDictionary<string, long> DroppedEvents { get; } = droppedEvents;
    /// <summary>CUDA runtime and NCCL versions, where the trace records them.</summary>
    public string? CudaVersion { get; init; }
    public string? NcclVersion { get; init; }

    private int[]? _parent;
    private Dictionary<long, int>? _byExternalId;

    /// <summary>The operator or annotation that directly encloses op <paramref name="i"/> on its thread; -1 at the top.</summary>
    public int Parent(int i) => (_parent ??= Nest())[i];

    /// <summary>The host operator that launched a kernel, or -1 when the trace does not link them.</summary>
    public int Launcher(GpuKernel k)
    {
        _byExternalId ??= Index();
        return k.ExternalId is { } id && _byExternalId.TryGetValue(id, out var i) ? i : -1;
    }

    private List<int>[]? _children;

    /// <summary>The operators inside op <paramref name="i"/> on its thread, outer before inner.</summary>
    public IEnumerable<int> Descendants(int i)
    {
        if (_children is null)
        {
            var c = new List<int>[Ops.Count];
            for (var j = 0; j < Ops.Count; j++)
                if (Parent(j) is var p and >= 0) (c[p] ??= []).Add(j);
            _children = c;
        }
        if (_children[i] is not { } kids) yield break;
        foreach (var k in kids)
        {
            yield return k;
            foreach (var d in Descendants(k)) yield return d;
        }
    }

    /// <summary>Op <paramref name="i"/> and its enclosing operators, innermost first.</summary>
    public IEnumerable<int> Chain(int i)
    {
        for (var j = i; j >= 0; j = Parent(j)) yield return j;
    }

    private Dictionary<long, int> Index()
    {
        var d = new Dictionary<long, int>();
        for (var i = 0; i < Ops.Count; i++)
            if (Ops[i].ExternalId is { } id && !Ops[i].IsAnnotation) d.TryAdd(id, i);
        return d;
    }

    /// <summary>Per thread, ops sorted by start (longer first on ties) and nested with a stack of open ranges.</summary>
    private int[] Nest()
    {
        var parent = new int[Ops.Count];
        Array.Fill(parent, -1);
        foreach (var thread in Enumerable.Range(0, Ops.Count).GroupBy(i => Ops[i].Thread))
        {
            var order = thread.OrderBy(i => Ops[i].StartMicros).ThenByDescending(i => Ops[i].DurationMicros).ThenBy(i => i).ToList();
            var open = new Stack<int>();
            foreach (var i in order)
            {
                // Timestamps are rounded to the microsecond or finer: a child may end a hair after its parent.
                while (open.Count > 0 && Ops[open.Peek()].EndMicros <= Ops[i].StartMicros + 1e-3) open.Pop();
                parent[i] = open.Count > 0 ? open.Peek() : -1;
                open.Push(i);
            }
        }
        return parent;
    }
}
