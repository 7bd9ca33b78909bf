using Sim.Topology;

namespace Sim.Collectives;

/// <summary>
/// The ranks taking part in a collective (the first <see cref="Size"/> ranks of the cluster), grouped by
/// node. Within a node, ranks are listed in ring order: rank order, or, where GPUs are wired directly to
/// each other (a cube mesh), a cycle that follows direct links. All nodes use the same order, so position p
/// in every node is the same GPU slot, i.e. the same NIC rail.
/// </summary>
internal sealed class Communicator
{
    public ClusterGraph Graph { get; }
    public int Size { get; }
    /// <summary>Participating ranks of each node touched, in ring order.</summary>
    public IReadOnlyList<int[]> NodeRanks { get; }
    /// <summary>Ranks per node when every node has the same count, else 0.</summary>
    public int PerNode { get; }
    public int NodeCount => NodeRanks.Count;

    public Communicator(ClusterGraph graph, int size)
    {
        if (size < 1 || size > graph.WorldSize)
            throw new ArgumentOutOfRangeException(nameof(size), $"a communicator holds 1 to {graph.WorldSize} ranks");
        Graph = graph;
        Size = size;
        var c = graph.Cluster;
        var groups = Enumerable.Range(0, size).GroupBy(c.NodeOf).Select(g => g.ToArray()).ToList();
        PerNode = groups.All(g => g.Length == groups[0].Length) ? groups[0].Length : 0;
        var order = RingOrder(graph, groups[0]);
        NodeRanks = groups.Select(g => g.Length == order.Length ? order.Select(p => g[p]).ToArray() : g).ToList();
    }

    public int NodeIndexOf(int rank) => Graph.Cluster.NodeOf(rank) - Graph.Cluster.NodeOf(0);

    /// <summary>Positions 0..k−1 in ring order: a Hamiltonian cycle over direct GPU links if there is one, else identity.</summary>
    private static int[] RingOrder(ClusterGraph g, int[] ranks)
    {
        var k = ranks.Length;
        var identity = Enumerable.Range(0, k).ToArray();
        if (k < 3 || k > 16) return identity;
        var adjacent = new bool[k, k];
        var any = false;
        for (var a = 0; a < k; a++)
            foreach (var l in g.OutLinks(g.VertexOfRank(ranks[a])))
            {
                var b = Array.IndexOf(ranks, g.Vertices[l.Target].Rank);
                if (b >= 0 && g.Vertices[l.Target].Kind == VertexKind.Gpu) { adjacent[a, b] = true; any = true; }
            }
        if (!any) return identity;
        var path = new List<int> { 0 };
        var used = new bool[k];
        used[0] = true;
        return Extend(path, used, adjacent, k) ? [.. path] : identity;
    }

    private static bool Extend(List<int> path, bool[] used, bool[,] adjacent, int k)
    {
        var last = path[^1];
        if (path.Count == k) return adjacent[last, path[0]];
        for (var next = 0; next < k; next++)
        {
            if (used[next] || !adjacent[last, next]) continue;
            used[next] = true; path.Add(next);
            if (Extend(path, used, adjacent, k)) return true;
            used[next] = false; path.RemoveAt(path.Count - 1);
        }
        return false;
    }
}
