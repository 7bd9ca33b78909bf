using Sim.Topology;
using Sim.Iterations;

namespace Sim.Engine;

/// <summary>What a message stands for (see <see cref="Message"/>).</summary>
internal enum MessageKind { Exact, NodeLocal, NodePair, ClassPair, ClassSend, ClassReceive, Ring }

/// <summary>
/// One message of a collective stage: exact (GPU to GPU) unless the engine coalesces (<see cref="Coalescing"/>):
/// <list type="bullet">
/// <item><see cref="MessageKind.NodeLocal"/>: a GPU pair inside a node, standing for the same pair in every node of
/// its node group (simulated in the group's first node at their mean bytes); those pairs wait for it.</item>
/// <item><see cref="MessageKind.ClassPair"/>: all traffic between two GPU classes over the NICs, on the classes'
/// first GPUs, at the per-GPU share of the larger class (on a fabric graph, on their NIC ports only: node-group
/// pairs carry the core); every GPU of both classes waits for it. When the classes
/// differ in size, the smaller class's GPUs each move more: a <see cref="MessageKind.ClassSend"/> (only the
/// sender's port) or <see cref="MessageKind.ClassReceive"/> (only the receiver's) carries the difference.</item>
/// <item><see cref="MessageKind.NodePair"/>: all traffic between two node groups (two nodes for groups of one),
/// spread evenly over the groups' rails, on rail 0 of each group's first node with the per-rail share of the
/// bytes; every GPU of both groups waits for it. Traffic between different nodes of one group goes from its second
/// node to its first, so that the first node's rail 0 carries the group's average per-rail load.</item>
/// <item><see cref="MessageKind.Ring"/>: a coalesced inter-node ring step on a representative port.</item>
/// </list>
/// </summary>
/// <param name="Weight">how many real flows per port a coalesced message stands for (its weight in fair sharing).</param>
/// <param name="Steps">ring steps the message streams (its route latency counts once per step).</param>
internal readonly record struct Message(int Src, int Dst, double Bytes, MessageKind Kind = MessageKind.Exact, double Weight = 1, int Steps = 1);

/// <summary>
/// A collective as the event engine runs it: stages of concurrent messages, each stage starting when the
/// previous one is delivered. The shapes mirror <see cref="Collectives.CollectiveModel"/>: an all-to-all is
/// one stage of pairwise messages; an all-reduce is ring steps inside a node, or hierarchical (intra-node
/// reduce-scatter, one inter-node ring per local GPU index, intra-node all-gather) across nodes.
/// </summary>
internal static class CollectiveStages
{
    /// <param name="co">null: exact messages; else coalesced (see <see cref="Message"/>).</param>
    public static IEnumerable<IReadOnlyList<Message>> For(Cluster c, CollectiveSpec spec, Coalescing? co = null) => spec.Kind switch
    {
        CollectiveKind.AllToAll when co is not null && c.Nodes > 1 => [AllToAllCoalesced(c, spec.Demand!, co)],
        CollectiveKind.AllToAll => [AllToAll(c, spec)],
        CollectiveKind.AllReduce => AllReduce(c, spec.Bytes, co),
        _ => throw new ArgumentOutOfRangeException(nameof(spec)),
    };

    private static List<Message> AllToAll(Cluster c, CollectiveSpec spec)
    {
        var d = spec.Demand!;
        var list = new List<Message>();
        for (var s = 0; s < d.World; s++)
            for (var t = 0; t < d.World; t++)
                if (s != t && d.Bytes(s, t) is var bytes && bytes > 0) list.Add(new Message(s, t, bytes));
        return list;
    }

    /// <summary>
    /// Coalesced all-to-all (see <see cref="Message"/>). The demand is separable (bytes(s, t) = To[s] + From[t]),
    /// so group sums come from its vectors in O(W G + groups²), never from the W² pairs.
    /// </summary>
    private static List<Message> AllToAllCoalesced(Cluster c, Collectives.AllToAllDemand d, Coalescing co)
    {
        var list = new List<Message>();
        int g = c.GpusPerNode;
        var nodes = co.Nodes;
        for (var a = 0; a < nodes.Count; a++)
        {
            // Inside each node: every local pair at its mean over the group's nodes.
            var first = nodes.First(a) * g;
            for (var i = 0; i < g; i++)
                for (var j = 0; j < g; j++)
                {
                    if (i == j) continue;
                    double bytes = 0;
                    foreach (var n in nodes.Members[a]) bytes += d.Bytes(n * g + i, n * g + j);
                    if (bytes > 0) list.Add(new Message(first + i, first + j, bytes / nodes.SizeOf(a), MessageKind.NodeLocal));
                }
        }
        if (co.Gpus is not null) AddClassPairs(c, d, co, list);
        // Node-group pairs: all of the traffic between nodes, or (split at the NICs) its part in the fabric core.
        if (co.Gpus is null || co.SplitAtNics) AddNodeGroupPairs(c, d, nodes, list);
        return list;
    }

    /// <summary>
    /// Between classes A and B (of a and b GPUs): T = b To_A + a From_B bytes (sums over the classes' GPUs), less the
    /// pairs that share a node (they use NVLink). Each GPU of A sends T / a over b real flows, each of B receives
    /// T / b over a: the pair message carries T / max(a, b) with weight min(a, b), and a one-port message the rest.
    /// </summary>
    private static void AddClassPairs(Cluster c, Collectives.AllToAllDemand d, Coalescing co, List<Message> list)
    {
        var gpus = co.Gpus!;
        int g = c.GpusPerNode, count = gpus.Count;
        var (to, from) = d.SumsBy(count, gpus.GroupOf);
        var sameNode = new double[count, count];
        for (var n = 0; n < c.Nodes; n++)
            for (var s = n * g; s < (n + 1) * g; s++)
                for (var t = n * g; t < (n + 1) * g; t++)
                    sameNode[gpus.GroupOf(s), gpus.GroupOf(t)] += d.ToEachPeer[s] + d.FromEachPeer[t];
        for (var a = 0; a < count; a++)
            for (var b = 0; b < count; b++)
            {
                int sa = gpus.SizeOf(a), sb = gpus.SizeOf(b);
                var bytes = sb * to[a] + sa * from[b] - sameNode[a, b];
                if (bytes <= Math.Abs(sameNode[a, b]) * 1e-12 || Ends(co, a, b) is not var (src, dst)) continue;
                list.Add(new Message(src, dst, bytes / Math.Max(sa, sb), MessageKind.ClassPair, Math.Min(sa, sb)));
                if (sa < sb) list.Add(new Message(src, dst, bytes / sa - bytes / sb, MessageKind.ClassSend, sb - sa));
                if (sa > sb) list.Add(new Message(src, dst, bytes / sb - bytes / sa, MessageKind.ClassReceive, sa - sb));
            }
    }

    /// <summary>The class representatives that carry traffic from class a to class b over the NICs (null: none on different nodes).</summary>
    private static (int, int)? Ends(Coalescing co, int a, int b)
    {
        foreach (var src in co.Gpus!.Members[a])
            if (co.EntryOf(b, src) is var dst and >= 0) return (src, dst);
        return null;
    }

    /// <summary>
    /// With k nodes of G GPUs per group, group A sends k²G² (To_A/kG + From_B/kG) to group B, which is To_A + From_B
    /// per rail over kG real flows; between its own different nodes, (k - 1)(To_A + From_A) / k over (k - 1)G.
    /// </summary>
    private static void AddNodeGroupPairs(Cluster c, Collectives.AllToAllDemand d, TrafficGroups nodes, List<Message> list)
    {
        var k = nodes.SizeOf(0);
        var (to, from) = d.SumsBy(nodes.Count, r => nodes.GroupOf(c.NodeOf(r)));
        foreach (var (src, dst, a, b, weight) in NodeGroupPairs(c, nodes))
        {
            var bytes = a == b ? (k - 1) * (to[a] + from[a]) / k : to[a] + from[b];
            if (bytes > 0) list.Add(new Message(src, dst, bytes, MessageKind.NodePair, weight));
        }
    }

    /// <summary>
    /// Where the node-group-pair messages go (GPU ranks), the groups they join (A == B: between a group's own nodes)
    /// and their weights, in the order the all-to-all lays them out. <see cref="FabricMultiplicity"/> routes the same.
    /// </summary>
    internal static IEnumerable<(int Src, int Dst, int A, int B, double Weight)> NodeGroupPairs(Cluster c, TrafficGroups nodes)
    {
        int g = c.GpusPerNode, k = nodes.SizeOf(0);
        if (k > 1)
            for (var a = 0; a < nodes.Count; a++) yield return (nodes.Members[a][1] * g, nodes.First(a) * g, a, a, (k - 1) * g);
        for (var a = 0; a < nodes.Count; a++)
            for (var b = 0; b < nodes.Count; b++)
                if (a != b) yield return (nodes.First(a) * g, nodes.First(b) * g, a, b, k * g);
    }

    /// <param name="co">when coalescing, the intra-node steps run in each node group's first node, and the inter-node
    /// ring on the GPU classes' first GPUs (or rail 0 of each node group's first node): every port carries one ring
    /// flow, as each of the G rails' rings puts one on each of its ports.</param>
    private static IEnumerable<IReadOnlyList<Message>> AllReduce(Cluster c, double bytes, Coalescing? co)
    {
        int n = c.WorldSize, g = c.GpusPerNode, nodes = c.Nodes;
        if (n == 1 || bytes <= 0) yield break;
        if (nodes == 1)
        {
            // Ring over the node's GPUs: 2(n-1) steps of S/n.
            for (var step = 0; step < 2 * (n - 1); step++)
                yield return Enumerable.Range(0, n).Select(r => new Message(r, (r + 1) % n, bytes / n)).ToList();
            yield break;
        }
        var kind = co is null ? MessageKind.Exact : MessageKind.NodeLocal;
        var simulatedNodes = SimulatedNodes(c, co);
        var ring = InterNodeRing(c, co);
        // One GPU per node: a single ring over all ranks, 2(n-1) steps of S/n.
        var (steps, chunk) = g == 1 ? (2 * (n - 1), bytes / n) : (2 * (nodes - 1), bytes / g / nodes);
        if (g > 1) for (var step = 0; step < g - 1; step++) yield return IntraRing(c, simulatedNodes, bytes / g, kind);
        // The inter-node ring streams (NCCL pipelines it): one flow per hop carries every step's chunk and is
        // delivered one route latency per step after its last byte, as in the closed form. Stepping it in lock-step
        // would cost a rate recomputation per step: 4,094 of them at 2,048 nodes.
        yield return ring.Select(e => new Message(e.Src, e.Dst, chunk * steps, co is null ? MessageKind.Exact : MessageKind.Ring, Steps: steps)).ToList();
        if (g > 1) for (var step = 0; step < g - 1; step++) yield return IntraRing(c, simulatedNodes, bytes / g, kind);
    }

    /// <summary>The nodes whose GPUs the all-reduce simulates: all, or each node group's first.</summary>
    private static int[] SimulatedNodes(Cluster c, Coalescing? co) =>
        co is null ? Enumerable.Range(0, c.Nodes).ToArray() : co.Nodes.Members.Select(m => m[0]).ToArray();

    /// <summary>The (src, dst) GPU pairs of one inter-node ring step. <see cref="FabricMultiplicity"/> routes the same.</summary>
    internal static List<(int Src, int Dst)> InterNodeRing(Cluster c, Coalescing? co)
    {
        int g = c.GpusPerNode;
        var simulatedNodes = SimulatedNodes(c, co);
        if (co is { Gpus: { } gpus, SplitAtNics: false })
        {
            var ring = new List<(int, int)>();
            for (var a = 0; a < gpus.Count; a++)
                if (co.EntryOf((a + 1) % gpus.Count, gpus.First(a)) is var dst and >= 0) ring.Add((gpus.First(a), dst));
            return ring;
        }
        var rails = co is null ? g : 1;
        // One node group: its ring hop goes to the next node (a hop to itself would cross no link at all).
        if (simulatedNodes.Length == 1) return [(simulatedNodes[0] * g, (simulatedNodes[0] + 1) % c.Nodes * g)];
        return Enumerable.Range(0, simulatedNodes.Length).SelectMany(i => Enumerable.Range(0, rails).Select(l =>
            (simulatedNodes[i] * g + l, simulatedNodes[(i + 1) % simulatedNodes.Length] * g + l))).ToList();
    }

    /// <summary>One ring step inside the given nodes at once: each GPU sends to the next GPU of its node.</summary>
    private static List<Message> IntraRing(Cluster c, int[] nodes, double chunk, MessageKind kind) =>
        nodes.SelectMany(node => Enumerable.Range(node * c.GpusPerNode, c.GpusPerNode)).Select(r =>
            new Message(r, c.NodeOf(r) * c.GpusPerNode + (c.LocalIndex(r) + 1) % c.GpusPerNode, chunk, kind)).ToList();
}
