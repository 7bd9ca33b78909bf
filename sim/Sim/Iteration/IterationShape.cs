using System.Collections.Concurrent;

namespace Sim.Iterations;

/// <summary>
/// The structure of an iteration DAG without its prices: each task's phase, kind, stream and rank, and its
/// dependencies (compressed rows: task i depends on <see cref="Dependencies"/>[<see cref="DependencyStart"/>[i] ..
/// <see cref="DependencyStart"/>[i+1]]). It depends only on <see cref="ShapeKey"/> (world size, schedule, whether
/// data-parallel tables add an all-reduce), so a sweep's configurations share a few shapes and each graph is one shape
/// plus the seconds of its configuration (<see cref="IterationGraph"/>). Immutable once built.
/// </summary>
public sealed class IterationShape
{
    public int World { get; }
    public int Count => PhaseOf.Length;
    internal readonly string[] PhaseOf;
    internal readonly TaskKind[] KindOf;
    internal readonly StreamKind[] StreamOf;
    /// <summary>A compute task's rank; -1 for collectives (they span every rank).</summary>
    internal readonly int[] RankOf;
    internal readonly int[] DependencyStart;
    internal readonly int[] Dependencies;
    /// <summary>Per task, its index among the collectives (-1 for compute tasks): where a graph keeps its per-rank seconds.</summary>
    internal readonly int[] CollectiveOrdinal;

    /// <summary>
    /// The same DAG by block: a compute block is one phase's tasks on every rank (ids <see cref="BlockFirst"/> + rank), a
    /// collective block its one task. Every dependency of a compute task is the same rank's task of an earlier compute
    /// block or a collective, and a collective waits on whole blocks, so the longest path runs block by block over
    /// per-rank vectors (<see cref="Timeline.Analytical"/>) instead of task by task.
    /// </summary>
    internal readonly int[] BlockFirst;
    internal readonly int[] BlockDependencyStart;
    /// <summary>Dependencies of each block: block indices.</summary>
    internal readonly int[] BlockDependencies;

    internal IterationShape(int world, string[] phase, TaskKind[] kind, StreamKind[] stream, int[] rank, int[] depStart, int[] deps)
    {
        World = world; PhaseOf = phase; KindOf = kind; StreamOf = stream; RankOf = rank; DependencyStart = depStart; Dependencies = deps;
        CollectiveOrdinal = new int[phase.Length];
        var collectives = 0;
        for (var i = 0; i < phase.Length; i++) CollectiveOrdinal[i] = kind[i] == TaskKind.Collective ? collectives++ : -1;
        (BlockFirst, BlockDependencyStart, BlockDependencies) = Blocks();
    }

    /// <summary>Blocks and their dependencies, read off the task-level dependencies (a compute block's from its rank-0 task).</summary>
    private (int[] First, int[] DepStart, int[] Deps) Blocks()
    {
        var first = new List<int>();
        var blockOf = new int[Count];
        for (var i = 0; i < Count; i++)
        {
            if (KindOf[i] == TaskKind.Collective || RankOf[i] == 0) first.Add(i);
            blockOf[i] = first.Count - 1;
        }
        var depStart = new int[first.Count + 1];
        var deps = new List<int>();
        for (var b = 0; b < first.Count; b++)
        {
            foreach (var d in DependenciesOf(first[b]))
                if (!deps.Skip(depStart[b]).Contains(blockOf[d])) deps.Add(blockOf[d]);
            depStart[b + 1] = deps.Count;
        }
        return (first.ToArray(), depStart, deps.ToArray());
    }

    /// <summary>Task <paramref name="task"/>'s dependencies, all with smaller ids.</summary>
    public ArraySegment<int> DependenciesOf(int task) =>
        new(Dependencies, DependencyStart[task], DependencyStart[task + 1] - DependencyStart[task]);

    // Shapes built so far. Bounded: a sweep over many cluster sizes would otherwise keep every size's shape.
    private static readonly ConcurrentDictionary<ShapeKey, IterationShape> Built = new();
    private const int MaxCached = 64;

    /// <summary>Tests: forget every shape, so the next build records its own.</summary>
    internal static void ForgetCached() => Built.Clear();

    internal static IterationShape? Cached(ShapeKey key) => Built.GetValueOrDefault(key);

    internal static void Remember(ShapeKey key, IterationShape shape)
    {
        if (Built.Count >= MaxCached) Built.Clear();
        Built.TryAdd(key, shape);
    }
}

/// <summary>
/// Everything the structure of an iteration DAG depends on (<see cref="IterationGraph.Build"/> reads nothing else
/// structural): pricing a cached shape checks each block's phase and kind, so a key that missed an input fails loudly.
/// </summary>
internal readonly record struct ShapeKey(int World, bool Sequential, bool PipelineEmbeddings, int AllReduceBuckets, bool DataParallelAllReduce);
