using Sim.Topology;

namespace Sim.Engine;

/// <summary>
/// On a fabric graph, node-group coalescing puts a group's traffic on one representative port per group, so a
/// switch-to-switch link (leaf to spine, spine to super-spine) carries only the representatives' flows, while in the
/// real cluster every port below the switch sends through it. Per such link this finds how much real traffic each
/// unit of simulated traffic stands for: real crossings of the switch's subtree boundary (every GPU pair of an
/// all-to-all not inside one node; every ring step of the G rails' inter-node rings), shared evenly over the
/// switch's parallel links, over the representative flows the router actually puts on the link. The engine then
/// makes those flows weigh that much more on the link. NIC links count as shared too (several GPUs may use one NIC);
/// a NIC of one GPU comes out at about 1. PCIe and NVLink links keep 1.
/// </summary>
internal static class FabricMultiplicity
{
    /// <summary>Per link id: the scale of all-to-all (node-pair) flows and of inter-node ring flows (1 where none).</summary>
    public static (double[] AllToAll, double[] Ring) Compute(Cluster c, GraphNetwork net, Coalescing co)
    {
        var graph = net.Graph;
        var links = graph.Links;
        var nodes = c.Nodes;
        var a2a = Enumerable.Repeat(1.0, links.Count).ToArray();
        var ring = Enumerable.Repeat(1.0, links.Count).ToArray();
        var below = Below(graph);

        // Simulated units per link: each message's weight (the real pairs per port it stands for), routed as the
        // engine routes it: when class flows carry the NIC ports, node-group pairs cross only the core.
        var simA2A = new double[links.Count];
        var simRing = new double[links.Count];
        void Put(double[] sim, int src, int dst, double units, bool core = false)
        {
            var route = net.Route(src, dst);
            foreach (var l in core ? RouteParts.Core(route, net.Links) : route) sim[l] += units;
        }
        foreach (var (src, dst, _, _, weight) in CollectiveStages.NodeGroupPairs(c, co.Nodes)) Put(simA2A, src, dst, weight, co.SplitAtNics);
        if (nodes > 1)
            foreach (var (src, dst) in CollectiveStages.InterNodeRing(c, co)) Put(simRing, src, dst, 1);

        // Traffic leaving (or entering) a subtree is shared by every link from its switches of one tier to the tier
        // above; spines of one pod all have the pod below them, so links are counted per distinct subtree and tier,
        // not per switch. (A NIC and its leaf may hold the same GPUs: each tier's links carry all of their traffic.)
        var boundary = new Dictionary<int[], int>[VertexKind.SuperSpine.Level() + 1];
        for (var i = 0; i < boundary.Length; i++) boundary[i] = new Dictionary<int[], int>(SetComparer.Instance);
        foreach (var l in links)
        {
            var (u, v) = (graph.Vertices[l.Source], graph.Vertices[l.Target]);
            if (IsShared(u.Kind) && IsShared(v.Kind) && u.Kind.Level() < v.Kind.Level())
                boundary[u.Kind.Level()][below[u.Id]] = boundary[u.Kind.Level()].GetValueOrDefault(below[u.Id]) + 1;
        }
        var crossings = new Dictionary<int[], (double Pairs, double RingOut, double RingIn)>(SetComparer.Instance);
        // One byte per GPU pair: its crossing bytes count the pairs.
        var pairCount = new Collectives.AllToAllDemand(c.WorldSize);
        Array.Fill(pairCount.ToEachPeer, 1.0);
        foreach (var l in links)
        {
            var (u, v) = (graph.Vertices[l.Source], graph.Vertices[l.Target]);
            if (!IsShared(u.Kind) || !IsShared(v.Kind) || u.Kind.Level() == v.Kind.Level()) continue;
            if (simA2A[l.Id] == 0 && simRing[l.Id] == 0) continue;
            var up = u.Kind.Level() < v.Kind.Level();
            var lower = up ? u : v;
            var set = below[lower.Id];
            if (!crossings.TryGetValue(set, out var x)) crossings[set] = x = Crossings(c, set, pairCount);
            // Duplex links: as many links enter the subtree from above as leave it.
            var parallel = Math.Max(1, boundary[lower.Kind.Level()].GetValueOrDefault(set));
            if (simA2A[l.Id] > 0) a2a[l.Id] = x.Pairs / parallel / simA2A[l.Id];
            if (simRing[l.Id] > 0) ring[l.Id] = (up ? x.RingOut : x.RingIn) / parallel / simRing[l.Id];
        }
        return (a2a, ring);
    }

    /// <summary>
    /// Real traffic across the boundary of the subtree holding <paramref name="set"/>: all-to-all pairs with one end
    /// inside, less those within one node (NVLink); ring steps (node n to n + 1 on every rail) leaving and entering.
    /// </summary>
    private static (double Pairs, double RingOut, double RingIn) Crossings(Cluster c, int[] set, Collectives.AllToAllDemand pairCount)
    {
        int w = c.WorldSize, g = c.GpusPerNode, nodes = c.Nodes;
        var inB = new bool[w];
        foreach (var r in set) inB[r] = true;
        var pairs = Collectives.FabricBottleneck.CrossingBytes(c, pairCount, set, inB, w, 0).Leaving;
        double ringOut = 0, ringIn = 0;
        if (nodes > 1)
            for (var r = 0; r < w; r++)
            {
                var next = (c.NodeOf(r) + 1) % nodes * g + c.LocalIndex(r);
                if (inB[r] && !inB[next]) ringOut++;
                if (!inB[r] && inB[next]) ringIn++;
            }
        return (pairs, ringOut, ringIn);
    }

    /// <summary>Equality of rank sets by content (they are sorted and distinct).</summary>
    private sealed class SetComparer : IEqualityComparer<int[]>
    {
        public static readonly SetComparer Instance = new();
        public bool Equals(int[]? a, int[]? b) => a.AsSpan().SequenceEqual(b);
        public int GetHashCode(int[] a)
        {
            var h = new HashCode();
            h.Add(a.Length);
            foreach (var x in a) h.Add(x);
            return h.ToHashCode();
        }
    }

    private static bool IsShared(VertexKind k) => k is VertexKind.Nic or VertexKind.Leaf or VertexKind.Spine or VertexKind.SuperSpine or VertexKind.Switch;

    /// <summary>For every vertex, the GPU ranks below it in the physical hierarchy (distinct, ascending).</summary>
    private static int[][] Below(ClusterGraph graph)
    {
        var vs = graph.Vertices;
        var sets = new int[vs.Count][];
        var stamp = new int[graph.WorldSize];
        var gathered = new List<int>();
        foreach (var v in vs.OrderBy(v => v.Kind.Level()).ThenBy(v => v.Id))
        {
            gathered.Clear();
            if (v.Rank >= 0) gathered.Add(v.Rank);
            // In-links from the tier below (CPUs carry no GPU traffic); a stamp per vertex drops repeats.
            for (var i = graph.InStart[v.Id]; i < graph.InStart[v.Id + 1]; i++)
            {
                var from = vs[graph.LinkSource[graph.InIds[i]]];
                if (from.Kind.Level() >= v.Kind.Level() || from.Kind == VertexKind.Cpu) continue;
                foreach (var r in sets[from.Id])
                    if (stamp[r] != v.Id + 1) { stamp[r] = v.Id + 1; gathered.Add(r); }
            }
            gathered.Sort();
            sets[v.Id] = [.. gathered];
        }
        return sets;
    }
}
