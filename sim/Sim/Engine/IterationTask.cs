using Sim.Collectives;

namespace Sim.Engine;

public enum TaskKind { Compute, Collective }

public enum CollectiveKind { AllToAll, AllReduce }

/// <summary>What a collective task moves: an uneven all-to-all demand, or bytes all-reduced on every rank.</summary>
public sealed record CollectiveSpec(CollectiveKind Kind, AllToAllDemand? Demand, double Bytes);

/// <summary>
/// A node of the iteration DAG. Compute tasks run on one rank; collective tasks span all ranks and start
/// when every participant is ready. Dependencies always have smaller ids (the list is topologically ordered).
/// </summary>
public sealed record IterationTask(
    int Id,
    string Phase,
    TaskKind Kind,
    int Rank,
    double Seconds,
    IReadOnlyList<int> Dependencies,
    CollectiveSpec? Collective = null,
    IReadOnlyList<double>? PerRankSeconds = null);
