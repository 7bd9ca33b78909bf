namespace Sim.Collectives;

/// <summary>The collectives Sim models on the cluster graph.</summary>
public enum CollectiveOp { AllToAll, AllReduce, ReduceScatter, AllGather }

public static class CollectiveOps
{
    public static IReadOnlyDictionary<string, CollectiveOp> Words { get; } = new Dictionary<string, CollectiveOp>
    {
        ["all_to_all"] = CollectiveOp.AllToAll, ["all_reduce"] = CollectiveOp.AllReduce,
        ["reduce_scatter"] = CollectiveOp.ReduceScatter, ["all_gather"] = CollectiveOp.AllGather,
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
}
