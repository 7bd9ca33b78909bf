using Sim.Nccl;

namespace Sim.Collectives;

/// <summary>
/// A collective algorithm unrolled into phases over a communicator. Message sizes are per unit of
/// <see cref="PayloadBytes"/>: a schedule built once prices every message size by scaling.
/// </summary>
internal sealed record CollectiveSchedule(
    CollectiveOp Op,
    CollectiveAlgorithm Algorithm,
    Communicator Communicator,
    double PayloadBytes,
    IReadOnlyList<SchedulePhase> Phases);
