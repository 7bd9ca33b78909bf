using Sim.Nccl;

namespace Sim.Collectives;

/// <summary>
/// Flat all-to-all: <see cref="Direct"/> posts every message at once (one latency, a per-message cost for
/// each peer); <see cref="Pairwise"/> runs n−1 synchronised steps, rank r sending to r+s at step s (one
/// latency per step, and each step only as fast as its slowest link). Above
/// <see cref="CollectiveParameters.PairwiseExactRankLimit"/> ranks, pairwise is priced from evenly spaced
/// sample steps, each standing for its share of the rest.
/// </summary>
internal static class AllToAllSchedule
{
    public const int PairwiseSampleSteps = 8;

    public static string? NotApplicable(Communicator comm) => comm.Size < 2 ? "needs at least 2 ranks" : null;

    public static CollectiveSchedule Direct(Communicator comm, IAllToAllSplits splits, double payload)
    {
        var net = comm.NodeCount > 1;
        return new CollectiveSchedule(CollectiveOp.AllToAll, CollectiveAlgorithm.Direct, comm, payload,
            [new SchedulePhase("direct", new SplitsTraffic(splits), net ? 0 : 1, net ? 1 : 0, 1, comm.Size - 1)]);
    }

    public static CollectiveSchedule Pairwise(Communicator comm, IAllToAllSplits splits, double payload, CollectiveParameters p)
    {
        var n = comm.Size;
        var net = comm.NodeCount > 1;
        IEnumerable<int> shifts = Enumerable.Range(1, n - 1);
        double repeat = 1;
        if (n > p.PairwiseExactRankLimit)
        {
            shifts = Enumerable.Range(0, PairwiseSampleSteps).Select(i => 1 + (int)((long)i * (n - 1) / PairwiseSampleSteps)).Distinct().ToList();
            repeat = (n - 1.0) / shifts.Count();
        }
        var phases = shifts.Select(s => new SchedulePhase($"pairwise step {s}", new SplitsTraffic(splits, s), net ? 0 : 1, net ? 1 : 0, 1, 1, repeat)).ToList();
        return new CollectiveSchedule(CollectiveOp.AllToAll, CollectiveAlgorithm.Pairwise, comm, payload, phases);
    }
}
