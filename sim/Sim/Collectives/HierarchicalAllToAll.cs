using Sim.Nccl;

namespace Sim.Collectives;

/// <summary>
/// Two-level all-to-all. First, inside each node, GPU h hands GPU g everything it has for slot g of every
/// node (its own node's slot g included, which is then delivered). Then GPU g of node i sends GPU g of each
/// other node the node's aggregate for it, so every network message stays on one rail and there are N−1
/// large messages per GPU instead of n−k small ones. Bytes crossing the network are unchanged; NVLink
/// carries the extra hop.
/// </summary>
internal static class HierarchicalAllToAll
{
    public static string? NotApplicable(Communicator comm) => HierarchicalAllReduce.NotApplicable(comm);

    public static CollectiveSchedule Build(Communicator comm, IAllToAllSplits splits, double payload)
    {
        var k = comm.PerNode;
        var nodes = comm.NodeRanks;
        var intra = new PairTraffic();
        foreach (var node in nodes)
            for (var h = 0; h < k; h++)
                for (var g = 0; g < k; g++)
                {
                    if (g == h) continue;
                    double bytes = 0;
                    foreach (var other in nodes) bytes += splits.Bytes(node[h], other[g]);
                    intra.Add(node[h], node[g], bytes);
                }
        var inter = new PairTraffic();
        for (var g = 0; g < k; g++)
            for (var i = 0; i < nodes.Count; i++)
                for (var j = 0; j < nodes.Count; j++)
                {
                    if (i == j) continue;
                    double bytes = 0;
                    for (var h = 0; h < k; h++) bytes += splits.Bytes(nodes[i][h], nodes[j][g]);
                    inter.Add(nodes[i][g], nodes[j][g], bytes);
                }
        return new CollectiveSchedule(CollectiveOp.AllToAll, CollectiveAlgorithm.Hierarchical, comm, payload,
        [
            new SchedulePhase("intra-node exchange", intra, 1, 0, 1, k - 1),
            new SchedulePhase("inter-node exchange (same rail)", inter, 0, 1, 1, nodes.Count - 1),
        ]);
    }
}
