namespace Sim.Nccl;

/// <summary>The collectives Sim models on the cluster graph.</summary>
public enum CollectiveOp { AllToAll, AllReduce, ReduceScatter, AllGather }

/// <summary>
/// The one list of collective names (as nccl-tests, measurements, profiles and the CLI write them) and factors. It
/// depends on nothing, so the cost parameters' measured curves name collectives by it without depending on the models.
/// </summary>
internal static class CollectiveOps
{
    public const string AllToAllName = "all_to_all", AllReduceName = "all_reduce", ReduceScatterName = "reduce_scatter", AllGatherName = "all_gather";

    public static IReadOnlyDictionary<string, CollectiveOp> Words { get; } = new Dictionary<string, CollectiveOp>
    {
        [AllToAllName] = CollectiveOp.AllToAll, [AllReduceName] = CollectiveOp.AllReduce,
        [ReduceScatterName] = CollectiveOp.ReduceScatter, [AllGatherName] = CollectiveOp.AllGather,
    };

    public static string Word(this CollectiveOp op) => Words.First(kv => kv.Value == op).Key;

    /// <summary>
    /// nccl-tests' bus-bandwidth factor: busbw = algbw × factor, so that busbw is comparable to link speed
    /// whatever the rank count. 2(n−1)/n for all-reduce; (n−1)/n for reduce-scatter, all-gather, all-to-all.
    /// </summary>
    public static double BusBandwidthFactor(this CollectiveOp op, int ranks) => ranks <= 1 ? 0 : op switch
    {
        CollectiveOp.AllReduce => 2.0 * (ranks - 1) / ranks,
        _ => (ranks - 1.0) / ranks,
    };

    /// <summary>The factor of a collective named as nccl-tests names it; an unknown name takes <paramref name="unknown"/>'s (none: an error).</summary>
    public static double BusBandwidthFactor(string op, int ranks, CollectiveOp? unknown = null) =>
        Words.TryGetValue(op, out var o) ? o.BusBandwidthFactor(ranks)
        : unknown is { } u ? u.BusBandwidthFactor(ranks)
        : throw new ArgumentException($"unknown collective '{op}'", nameof(op));
}
