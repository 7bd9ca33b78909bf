using Sim.Nccl;

namespace Sim.Collectives;

/// <summary>
/// Two-level all-reduce: reduce-scatter inside each node (ring over k GPUs), then k independent all-reduce
/// rings across nodes, one per GPU slot, each on 1/k of the payload and its own NIC, then all-gather inside
/// each node. The same decomposition as <see cref="CollectiveModel.AllReduceSeconds"/>, here on the graph.
/// </summary>
internal static class HierarchicalAllReduce
{
    public static string? NotApplicable(Communicator comm) =>
        comm.NodeCount < 2 ? "needs at least 2 nodes"
        : comm.PerNode == 0 ? "needs the same number of ranks on every node"
        : comm.PerNode < 2 ? "needs at least 2 ranks per node" : null;

    public static CollectiveSchedule Build(Communicator comm)
    {
        var k = comm.PerNode;
        var nodes = comm.NodeRanks;
        var n = nodes.Count;
        var intra = new PairTraffic();
        foreach (var node in nodes)
            for (var j = 0; j < k; j++) intra.Add(node[j], node[(j + 1) % k], 1.0 / k);
        var inter = new PairTraffic();
        for (var g = 0; g < k; g++)
            for (var i = 0; i < n; i++) inter.Add(nodes[i][g], nodes[(i + 1) % n][g], 1.0 / k / n);
        return new CollectiveSchedule(CollectiveOp.AllReduce, CollectiveAlgorithm.Hierarchical, comm, 1,
        [
            new SchedulePhase("intra-node reduce-scatter", intra, k - 1, 0, k - 1),
            new SchedulePhase("inter-node all-reduce", inter, 0, 2 * (n - 1), 2 * (n - 1)),
            new SchedulePhase("intra-node all-gather", intra, k - 1, 0, k - 1),
        ]);
    }
}
