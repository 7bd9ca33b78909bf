using Sim.Nccl;

namespace Sim.Collectives;

/// <summary>
/// NCCL-style double binary tree all-reduce: a reduce up two complementary trees (half the payload each),
/// then a broadcast down them, both pipelined in chunks, so each phase costs its tree depth in latencies
/// but moves its bytes only once. Across nodes, as in NCCL, GPUs of a node form a chain and the trees join
/// nodes; there is one channel per GPU slot, channel c meeting the network at the GPU in slot c of each
/// node (its NIC), carrying 1/k of the payload.
/// </summary>
internal static class TreeSchedule
{
    public static string? NotApplicable(Communicator comm) =>
        comm.Size < 2 ? "needs at least 2 ranks"
        : comm.NodeCount > 1 && comm.PerNode == 0 ? "needs the same number of ranks on every node" : null;

    public static CollectiveSchedule Build(Communicator comm)
    {
        var up = new PairTraffic();
        var down = new PairTraffic();
        void Both(int child, int parent, double bytes) { up.Add(child, parent, bytes); down.Add(parent, child, bytes); }

        int intraSteps, netSteps;
        if (comm.NodeCount == 1)
        {
            var ranks = comm.NodeRanks[0];
            var a = BinaryTree.Balanced(ranks.Length);
            foreach (var t in new[] { a, a.Shifted() })
                for (var p = 0; p < ranks.Length; p++)
                    if (t.Parent[p] >= 0) Both(ranks[p], ranks[t.Parent[p]], 0.5);
            intraSteps = a.Depth;
            netSteps = 0;
        }
        else
        {
            var k = comm.PerNode;
            var nodes = comm.NodeRanks;
            var a = BinaryTree.Balanced(nodes.Count);
            var trees = new[] { a, a.Shifted() };
            for (var c = 0; c < k; c++)
            {
                foreach (var node in nodes)
                    for (var t = 0; t + 1 < k; t++)   // chain ending at slot c
                        Both(node[RingSchedule.Mod(c + 1 + t, k)], node[RingSchedule.Mod(c + 2 + t, k)], 1.0 / k);
                foreach (var tree in trees)
                    for (var i = 0; i < nodes.Count; i++)
                        if (tree.Parent[i] >= 0) Both(nodes[i][c], nodes[tree.Parent[i]][c], 0.5 / k);
            }
            intraSteps = k - 1;
            netSteps = a.Depth;
        }
        return new CollectiveSchedule(CollectiveOp.AllReduce, CollectiveAlgorithm.Tree, comm, 1,
        [
            new SchedulePhase("tree reduce", up, intraSteps, netSteps, 1),
            new SchedulePhase("tree broadcast", down, intraSteps, netSteps, 1),
        ]);
    }
}
