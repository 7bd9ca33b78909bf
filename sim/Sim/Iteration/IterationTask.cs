using Sim.Collectives;

namespace Sim.Iterations;

public enum TaskKind { Compute, Collective }

public enum CollectiveKind { AllToAll, AllReduce }

/// <summary>The per-rank stream a task runs on. Tasks of one stream run in order (a dependency chain).</summary>
public enum StreamKind { Compute, AllToAll, AllReduce }

/// <summary>
/// What a collective task moves: an uneven all-to-all demand, or bytes all-reduced on every rank; plus host-side
/// work every rank does before its messages leave (e.g. bucketising indices), in seconds.
/// </summary>
public sealed record CollectiveSpec(CollectiveKind Kind, AllToAllDemand? Demand, double Bytes, double HostSeconds = 0);

/// <summary>
/// A node of the iteration DAG. Compute tasks run on one rank; collective tasks span all ranks, start when
/// every dependency is done, and finish per rank (<see cref="PerRankSeconds"/>): a rank that depends on a
/// collective waits only for its own part. Dependencies always have smaller ids (topological order).
/// </summary>
public sealed record IterationTask(
    int Id,
    string Phase,
    TaskKind Kind,
    StreamKind Stream,
    int Rank,
    double Seconds,
    IReadOnlyList<int> Dependencies,
    CollectiveSpec? Collective = null,
    IReadOnlyList<double>? PerRankSeconds = null)
{
    /// <summary>Seconds rank <paramref name="rank"/> spends in this task (a collective's own part for that rank).</summary>
    public double SecondsFor(int rank) => PerRankSeconds is { } p && rank >= 0 ? p[rank] : Seconds;
}
