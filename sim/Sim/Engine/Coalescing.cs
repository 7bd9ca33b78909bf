using Sim.Topology;
using Sim.Iterations;

namespace Sim.Engine;

/// <summary>
/// How the event engine shrinks a large cluster's traffic to a bounded number of flows (see <see cref="Message"/>):
/// traffic inside nodes by groups of consecutive nodes (<see cref="Nodes"/>); traffic between nodes at the NICs by
/// classes of GPUs of alike load (<see cref="Gpus"/>), since a port's load, not its place, decides how long it is
/// busy (a GPU holding many tables receives many indices). On a fabric graph (<see cref="SplitAtNics"/>) class flows
/// cross only the two NIC ports, and the fabric core between them carries node-group pairs, since consecutive nodes
/// share switches; those flows load switch-to-switch links as much as the traffic they stand for
/// (<see cref="FabricMultiplicity"/>). A GPU's part ends when both are done: port and core are not coupled within
/// one message, which is exact when one of them bounds it. With NICs shared by GPUs the graph keeps node groups end
/// to end. Limits there: a group averages its GPUs' loads, and flows spread over equal-cost paths evenly, where
/// hashed ECMP collides.
/// </summary>
internal sealed class Coalescing
{
    public Cluster Cluster { get; }
    public TrafficGroups Nodes { get; }
    /// <summary>Classes of GPUs for traffic between nodes, or null: pairs of node groups.</summary>
    public TrafficGroups? Gpus { get; }
    /// <summary>Class flows cross only the NIC ports; node-group pairs cross the fabric core (a fabric graph).</summary>
    public bool SplitAtNics { get; }

    public Coalescing(Cluster cluster, TrafficGroups nodes, TrafficGroups? gpus, bool splitAtNics = false)
    {
        Cluster = cluster; Nodes = nodes; Gpus = gpus; SplitAtNics = splitAtNics && gpus is not null;
    }

    /// <param name="maxGroups">at most about this many node groups and GPU classes.</param>
    public static Coalescing For(Cluster c, INetwork network, IterationGraph g, int maxGroups)
    {
        var graph = network is GraphNetwork;
        var classes = c.Nodes > 1 && (!graph || c.Fabric is { Nic.GpusPerNic: 1 });
        var gpus = classes ? Classes(AllToAllLoadsPerGpu(c, g), Math.Max(1, 2 * c.WorldSize / maxGroups)) : null;
        // Split at the NICs, node groups carry only the core's aggregate: half as many groups keep it cheap.
        var split = graph && classes;
        var size = TrafficGroups.SizeFor(c.Nodes, split ? Math.Max(1, maxGroups / 2) : maxGroups);
        var nodes = TrafficGroups.Contiguous(c.Nodes, graph ? WithinTaperedSubtrees(c, size) : size);
        return new Coalescing(c, nodes, gpus, splitAtNics: split);
    }

    /// <summary>
    /// A node-group size no larger than <paramref name="size"/> that keeps every group inside one leaf when the leaves
    /// are oversubscribed, else inside one pod when the pods are: a tapered subtree's uplinks then carry its own
    /// groups' traffic, not an average with its neighbours' (a heavy leaf would look as light as the rest).
    /// </summary>
    private static int WithinTaperedSubtrees(Cluster c, int size)
    {
        if (c.Fabric is not { } f) return size;
        var s = Topology.Fabric.ScaleOutShape.Resolve(c, f);
        var bound = s.LeafTapered ? s.NodesPerLeaf : s.PodTapered ? s.NodesPerPod : c.Nodes;
        return Divisors.LargestAtMost(Divisors.Gcd(bound, c.Nodes), size);
    }

    /// <summary>GPUs share a class only while their all-to-all load is within this fraction of the class's first ...</summary>
    public const double ClassLoadTolerance = 0.05;

    /// <summary>... and the share of it they send within this much (so a sender-heavy and a receiver-heavy GPU of equal load are apart).</summary>
    public const double ClassSendShareTolerance = 0.1;

    /// <summary>Classes of alike GPUs, sorted by load (sent plus received per peer).</summary>
    private static TrafficGroups Classes((double[] Sent, double[] Received) loads, int maxSize)
    {
        var (sent, received) = loads;
        var total = new double[sent.Length];
        var share = new double[sent.Length];
        for (var r = 0; r < total.Length; r++)
        {
            total[r] = sent[r] + received[r];
            share[r] = total[r] > 0 ? sent[r] / total[r] : 0.5;
        }
        return TrafficGroups.ByLoad(total, maxSize, (item, first) =>
            total[first] - total[item] <= ClassLoadTolerance * total[first] && Math.Abs(share[item] - share[first]) <= ClassSendShareTolerance);
    }

    public string Describe() => Gpus is { } gpus
        ? $"inter-node traffic coalesced into {gpus.Count} classes of 1 to {gpus.LargestSize} GPUs of alike load" +
          (SplitAtNics ? $" at the NICs, the fabric core by groups of {Nodes.SizeOf(0)} nodes" : $", intra-node by groups of {Nodes.SizeOf(0)} nodes")
        : Nodes.SizeOf(0) == 1 ? "inter-node traffic as node-pair flows" : $"traffic coalesced by groups of {Nodes.SizeOf(0)} nodes";

    /// <summary>The GPU of <paramref name="cls"/> that traffic from <paramref name="src"/> should reach over the NICs: its first GPU not in src's node (-1: none).</summary>
    public int EntryOf(int cls, int src)
    {
        foreach (var r in Gpus!.Members[cls])
            if (Cluster.NodeOf(r) != Cluster.NodeOf(src)) return r;
        return -1;
    }

    /// <summary>The ranks whose part of a collective waits for a message (see <see cref="Message"/>).</summary>
    public IEnumerable<int> Waiters(Message m)
    {
        int g = Cluster.GpusPerNode;
        switch (m.Kind)
        {
            case MessageKind.NodeLocal:
            {
                // The same GPU pair in every node of the group.
                int i = Cluster.LocalIndex(m.Src), j = Cluster.LocalIndex(m.Dst);
                return Nodes.Members[Nodes.GroupOf(Cluster.NodeOf(m.Src))].SelectMany(n => new[] { n * g + i, n * g + j });
            }
            case MessageKind.NodePair:
            {
                // Every GPU of both node groups (once, for traffic inside one group).
                int a = Nodes.GroupOf(Cluster.NodeOf(m.Src)), b = Nodes.GroupOf(Cluster.NodeOf(m.Dst));
                IEnumerable<int> Ranks(int group) => Nodes.Members[group].SelectMany(n => Enumerable.Range(n * g, g));
                return a == b ? Ranks(a) : Ranks(a).Concat(Ranks(b));
            }
            case MessageKind.ClassPair or MessageKind.ClassSend or MessageKind.ClassReceive:
            {
                int a = Gpus!.GroupOf(m.Src), b = Gpus.GroupOf(m.Dst);
                return a == b ? Gpus.Members[a] : Gpus.Members[a].Concat(Gpus.Members[b]);
            }
            default:
                return [m.Src, m.Dst];
        }
    }

    /// <summary>Bytes each GPU sends, and receives, per peer over all the iteration's all-to-alls: what GPUs are classed by.</summary>
    private static (double[] Sent, double[] Received) AllToAllLoadsPerGpu(Cluster c, IterationGraph g)
    {
        var sent = new double[c.WorldSize];
        var received = new double[c.WorldSize];
        foreach (var task in g.Tasks)
            if (task.Collective is { Kind: CollectiveKind.AllToAll, Demand: { } d })
                for (var r = 0; r < d.World; r++) { sent[r] += d.ToEachPeer[r]; received[r] += d.FromEachPeer[r]; }
        return (sent, received);
    }
}
