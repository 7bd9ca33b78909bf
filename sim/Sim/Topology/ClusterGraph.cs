using QuikGraph;
using Sim.Topology.Fabric;

namespace Sim.Topology;

/// <summary>
/// The cluster as a directed graph (QuikGraph): GPUs, NVSwitches, PCIe switches, CPUs, NICs, leaf, spine and
/// super-spine switches, joined by one-way links with bandwidth, latency and tier. Immutable once built.
/// Besides the QuikGraph view it keeps flat adjacency arrays, because routing a 2,048-GPU all-to-all visits
/// millions of edges and must not allocate per step.
/// </summary>
public sealed class ClusterGraph
{
    private readonly ClusterVertex[] _vertices;
    private readonly ClusterLink[] _links;
    private readonly int[] _gpuVertex;
    private readonly bool[] _forwards;

    public Cluster Cluster { get; }
    public FabricSpec Fabric { get; }
    /// <summary>The resolved scale-out (switch counts, bandwidths); null for hand-built graphs.</summary>
    public ScaleOutShape? ScaleOut { get; }
    public IBidirectionalGraph<int, ClusterLink> Graph { get; }
    public IReadOnlyList<ClusterVertex> Vertices => _vertices;
    public IReadOnlyList<ClusterLink> Links => _links;
    public int WorldSize => _gpuVertex.Length;

    // Compressed adjacency: out-links of v are OutIds[OutStart[v] .. OutStart[v+1]).
    internal int[] OutStart { get; }
    internal int[] OutIds { get; }
    internal int[] InStart { get; }
    internal int[] InIds { get; }
    // Link fields as flat arrays: the search loops read these millions of times.
    internal int[] LinkSource { get; }
    internal int[] LinkTarget { get; }
    internal double[] LinkLatency { get; }

    internal ClusterGraph(Cluster cluster, FabricSpec fabric, ScaleOutShape? scaleOut, ClusterVertex[] vertices, ClusterLink[] links, int[] gpuVertex, bool[] forwards)
    {
        Cluster = cluster; Fabric = fabric; ScaleOut = scaleOut;
        _vertices = vertices; _links = links; _gpuVertex = gpuVertex; _forwards = forwards;
        var g = new BidirectionalGraph<int, ClusterLink>(allowParallelEdges: true, vertexCapacity: vertices.Length, edgeCapacity: 4);
        for (var v = 0; v < vertices.Length; v++) g.AddVertex(v);
        g.AddEdgeRange(links);
        Graph = g;
        (OutStart, OutIds) = Adjacency(vertices.Length, links, l => l.Source);
        (InStart, InIds) = Adjacency(vertices.Length, links, l => l.Target);
        LinkSource = links.Select(l => l.Source).ToArray();
        LinkTarget = links.Select(l => l.Target).ToArray();
        LinkLatency = links.Select(l => l.LatencySeconds).ToArray();
    }

    private static (int[] Start, int[] Ids) Adjacency(int vertexCount, ClusterLink[] links, Func<ClusterLink, int> key)
    {
        var start = new int[vertexCount + 1];
        foreach (var l in links) start[key(l) + 1]++;
        for (var v = 0; v < vertexCount; v++) start[v + 1] += start[v];
        var fill = (int[])start.Clone();
        var ids = new int[links.Length];
        foreach (var l in links) ids[fill[key(l)]++] = l.Id;
        return (start, ids);
    }

    /// <summary>
    /// The same vertices with each link at <paramref name="factors"/>[id] of its speed; links at 0 are gone (ids are
    /// renumbered, reverse links kept paired). Used by <see cref="LinkOverlay"/>; the caller checks what stays connected.
    /// </summary>
    internal ClusterGraph WithLinkSpeeds(IReadOnlyList<double> factors)
    {
        var newId = new int[_links.Length];
        var kept = new List<ClusterLink>(_links.Length);
        foreach (var l in _links)
        {
            if (factors[l.Id] <= 0) { newId[l.Id] = -1; continue; }
            newId[l.Id] = kept.Count;
            kept.Add(new ClusterLink(kept.Count, l.Source, l.Target, l.BytesPerSecond * factors[l.Id], l.LatencySeconds, l.TierName));
        }
        foreach (var l in _links)
            if (newId[l.Id] >= 0 && l.ReverseId >= 0 && newId[l.ReverseId] >= 0) kept[newId[l.Id]].ReverseId = newId[l.ReverseId];
        return new ClusterGraph(Cluster, Fabric, ScaleOut, _vertices, [.. kept], _gpuVertex, _forwards);
    }

    public int VertexOfRank(int rank) => _gpuVertex[rank];

    /// <summary>
    /// Whether traffic between two other vertices may pass through <paramref name="vertex"/>. Switches and NICs
    /// forward; CPUs never carry GPU-to-GPU traffic; GPUs relay only in a cube mesh that says so.
    /// </summary>
    public bool Forwards(int vertex) => _forwards[vertex];

    public IEnumerable<ClusterLink> OutLinks(int vertex)
    {
        for (var i = OutStart[vertex]; i < OutStart[vertex + 1]; i++) yield return _links[OutIds[i]];
    }

    public int CountVertices(VertexKind kind) => _vertices.Count(v => v.Kind == kind);
}
