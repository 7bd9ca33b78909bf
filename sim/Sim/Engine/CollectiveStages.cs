using Sim.Topology;

namespace Sim.Engine;

/// <summary>
/// One message of a collective stage. A node-pair message stands for all traffic between two nodes, spread
/// evenly over the nodes' rails: it travels on rail 0 (Src and Dst are the nodes' first GPUs) with 1/G of
/// the bytes, and every GPU of both nodes waits for it.
/// </summary>
public readonly record struct Message(int Src, int Dst, double Bytes, bool NodePair = false);

/// <summary>
/// A collective as the event engine runs it: stages of concurrent messages, each stage starting when the
/// previous one is delivered. The shapes mirror <see cref="Collectives.CollectiveModel"/>: an all-to-all is
/// one stage of pairwise messages; an all-reduce is ring steps inside a node, or hierarchical (intra-node
/// reduce-scatter, one inter-node ring per local GPU index, intra-node all-gather) across nodes.
/// </summary>
public static class CollectiveStages
{
    public static IEnumerable<IReadOnlyList<Message>> For(Cluster c, CollectiveSpec spec, bool coalesceNodes = false) => spec.Kind switch
    {
        CollectiveKind.AllToAll when coalesceNodes && c.Nodes > 1 => [AllToAllByNodePair(c, spec.Demand!)],
        CollectiveKind.AllToAll => [AllToAll(c, spec)],
        CollectiveKind.AllReduce => AllReduce(c, spec.Bytes, coalesceNodes),
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
    /// Exact pairwise messages inside each node; one node-pair message for each ordered pair of nodes.
    /// Node sums come from the demand's vectors in O(W + N²), never from the W² pairs.
    /// </summary>
    private static List<Message> AllToAllByNodePair(Cluster c, Collectives.AllToAllDemand d)
    {
        int g = c.GpusPerNode, nodes = c.Nodes;
        var list = new List<Message>();
        var to = new double[nodes];
        var from = new double[nodes];
        for (var r = 0; r < d.World; r++) { to[c.NodeOf(r)] += d.ToEachPeer[r]; from[c.NodeOf(r)] += d.FromEachPeer[r]; }
        for (var n = 0; n < nodes; n++)
            for (var s = n * g; s < (n + 1) * g; s++)
                for (var t = n * g; t < (n + 1) * g; t++)
                    if (s != t && d.Bytes(s, t) is var bytes && bytes > 0) list.Add(new Message(s, t, bytes));
        for (var a = 0; a < nodes; a++)
            for (var b = 0; b < nodes; b++)
            {
                if (a == b) continue;
                var bytes = g * to[a] + g * from[b]; // sum over s in a, t in b of (To[s] + From[t])
                if (bytes > 0) list.Add(new Message(a * g, b * g, bytes / g, NodePair: true));
            }
        return list;
    }

    /// <param name="oneRail">simulate only the ring of local GPU 0: the G inter-node rings are identical, each on its own rail.</param>
    private static IEnumerable<IReadOnlyList<Message>> AllReduce(Cluster c, double bytes, bool oneRail)
    {
        int n = c.WorldSize, g = c.GpusPerNode, nodes = c.Nodes;
        if (n == 1 || bytes <= 0) yield break;
        if (nodes == 1 || g == 1)
        {
            // Ring over all ranks: 2(n-1) steps of S/n.
            for (var step = 0; step < 2 * (n - 1); step++)
                yield return Enumerable.Range(0, n).Select(r => new Message(r, (r + 1) % n, bytes / n)).ToList();
            yield break;
        }
        for (var step = 0; step < g - 1; step++) yield return IntraRing(c, bytes / g);
        var ringRanks = Enumerable.Range(0, n).Where(r => !oneRail || c.LocalIndex(r) == 0).ToArray();
        for (var step = 0; step < 2 * (nodes - 1); step++)
            yield return ringRanks.Select(r =>
                new Message(r, (c.NodeOf(r) + 1) % nodes * g + c.LocalIndex(r), bytes / g / nodes)).ToList();
        for (var step = 0; step < g - 1; step++) yield return IntraRing(c, bytes / g);
    }

    /// <summary>One ring step inside every node at once: each GPU sends to the next GPU of its node.</summary>
    private static List<Message> IntraRing(Cluster c, double chunk) =>
        Enumerable.Range(0, c.WorldSize).Select(r =>
            new Message(r, c.NodeOf(r) * c.GpusPerNode + (c.LocalIndex(r) + 1) % c.GpusPerNode, chunk)).ToList();
}
