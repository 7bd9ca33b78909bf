using Sim.Nccl;

namespace Sim.Collectives;

/// <summary>
/// Ring all-reduce (2(n−1) steps), reduce-scatter and all-gather (n−1 steps), each step moving S/n per ring
/// edge. Across nodes NCCL runs one ring (channel) per GPU slot, each entering and leaving every node on a
/// different GPU, so that every NIC carries one ring's crossing: ring c enters node i at position c−i and
/// leaves at c−i−1, which is where ring c enters node i+1, so crossings stay on one rail.
/// The payload is split evenly over the channels.
/// </summary>
internal static class RingSchedule
{
    public static string? NotApplicable(Communicator comm) => comm.Size < 2 ? "needs at least 2 ranks" : null;

    public static CollectiveSchedule Build(Communicator comm, CollectiveOp op)
    {
        if (op == CollectiveOp.AllToAll) throw new ArgumentException("a ring does not do all-to-all", nameof(op));
        var rings = Rings(comm);
        var n = comm.Size;
        var passes = op == CollectiveOp.AllReduce ? 2 : 1;
        var traffic = new PairTraffic();
        var perEdge = 1.0 / (rings.Count * n);
        foreach (var ring in rings)
            for (var j = 0; j < n; j++) traffic.Add(ring[j], ring[(j + 1) % n], perEdge);
        var steps = passes * (n - 1);
        // As NCCL's tuner counts it: a chunk's trip round the ring crosses the network once per node boundary.
        var network = comm.NodeCount > 1 ? passes * (comm.NodeCount - 1) : 0;
        return new CollectiveSchedule(op, CollectiveAlgorithm.Ring, comm, 1,
            [new SchedulePhase("ring", traffic, steps - network, network, steps)]);
    }

    /// <summary>The rings (channels): one per GPU slot across nodes, or one ring in node-major order.</summary>
    public static List<int[]> Rings(Communicator comm)
    {
        var k = comm.PerNode;
        var nodes = comm.NodeRanks;
        if (nodes.Count == 1 || k < 2) return [nodes.SelectMany(r => r).ToArray()];
        var rings = new List<int[]>();
        for (var c = 0; c < k; c++)
        {
            var ring = new int[comm.Size];
            var at = 0;
            for (var i = 0; i < nodes.Count; i++)
                for (var t = 0; t < k; t++)
                    ring[at++] = nodes[i][Mod(c - i + t, k)];
            rings.Add(ring);
        }
        return rings;
    }

    internal static int Mod(int a, int m) => ((a % m) + m) % m;
}
