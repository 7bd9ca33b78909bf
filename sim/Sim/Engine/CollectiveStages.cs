using Sim.Topology;

namespace Sim.Engine;

/// <summary>One message of a collective stage.</summary>
public readonly record struct Message(int Src, int Dst, double Bytes);

/// <summary>
/// A collective as the event engine runs it: stages of concurrent messages, each stage starting when the
/// previous one is delivered. The shapes mirror <see cref="Collectives.CollectiveModel"/>: an all-to-all is
/// one stage of pairwise messages; an all-reduce is ring steps inside a node, or hierarchical (intra-node
/// reduce-scatter, one inter-node ring per local GPU index, intra-node all-gather) across nodes.
/// </summary>
public static class CollectiveStages
{
    public static IEnumerable<IReadOnlyList<Message>> For(Cluster c, CollectiveSpec spec) => spec.Kind switch
    {
        CollectiveKind.AllToAll => [AllToAll(c, spec)],
        CollectiveKind.AllReduce => AllReduce(c, spec.Bytes),
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

    private static IEnumerable<IReadOnlyList<Message>> AllReduce(Cluster c, double bytes)
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
        for (var step = 0; step < 2 * (nodes - 1); step++)
            yield return Enumerable.Range(0, n).Select(r =>
                new Message(r, (c.NodeOf(r) + 1) % nodes * g + c.LocalIndex(r), bytes / g / nodes)).ToList();
        for (var step = 0; step < g - 1; step++) yield return IntraRing(c, bytes / g);
    }

    /// <summary>One ring step inside every node at once: each GPU sends to the next GPU of its node.</summary>
    private static List<Message> IntraRing(Cluster c, double chunk) =>
        Enumerable.Range(0, c.WorldSize).Select(r =>
            new Message(r, c.NodeOf(r) * c.GpusPerNode + (c.LocalIndex(r) + 1) % c.GpusPerNode, chunk)).ToList();
}
