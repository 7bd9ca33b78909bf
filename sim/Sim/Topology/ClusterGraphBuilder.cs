using QuikGraph.Algorithms;
using Sim.Topology.Fabric;

namespace Sim.Topology;

/// <summary>
/// Collects vertices and links, then freezes them into a <see cref="ClusterGraph"/>. The fabric builders use
/// it; tests use it directly to make shapes no topology file describes (a bare ring, say).
/// </summary>
internal sealed class ClusterGraphBuilder
{
    private readonly List<ClusterVertex> _vertices = [];
    private readonly List<ClusterLink> _links = [];
    private readonly List<bool> _forwards = [];
    private readonly int[] _gpuVertex;

    public Cluster Cluster { get; }
    public FabricSpec Fabric { get; }
    public ScaleOutShape? ScaleOut { get; init; }

    public ClusterGraphBuilder(Cluster cluster, FabricSpec? fabric = null)
    {
        Cluster = cluster;
        Fabric = fabric ?? cluster.Fabric ?? FabricSpec.Flat;
        _gpuVertex = new int[cluster.WorldSize];
        Array.Fill(_gpuVertex, -1);
    }

    public int VertexCount => _vertices.Count;

    /// <summary>Adds the GPU of <paramref name="rank"/>; it forwards only when <paramref name="forwards"/> (cube-mesh relaying).</summary>
    public int AddGpu(int rank, bool forwards = false, int pod = -1)
    {
        if (_gpuVertex[rank] >= 0) throw new InvalidOperationException($"GPU {rank} added twice");
        var node = Cluster.NodeOf(rank);
        var id = Add(VertexKind.Gpu, $"n{node}.gpu{Cluster.LocalIndex(rank)}", node, pod, rank, forwards);
        _gpuVertex[rank] = id;
        return id;
    }

    public int AddVertex(VertexKind kind, string name, int node = -1, int pod = -1)
    {
        if (kind == VertexKind.Gpu) throw new ArgumentException("use AddGpu for GPUs", nameof(kind));
        return Add(kind, name, node, pod, -1, kind != VertexKind.Cpu);
    }

    private int Add(VertexKind kind, string name, int node, int pod, int rank, bool forwards)
    {
        var id = _vertices.Count;
        _vertices.Add(new ClusterVertex(id, kind, name, node, pod, rank));
        _forwards.Add(forwards);
        return id;
    }

    /// <summary>A one-way link.</summary>
    public int AddLink(int from, int to, double bytesPerSecond, double latencySeconds, string tierName)
    {
        var id = _links.Count;
        _links.Add(new ClusterLink(id, from, to, bytesPerSecond, latencySeconds, tierName));
        return id;
    }

    /// <summary>A cable: two one-way links of the same speed and latency, each knowing the other.</summary>
    public (int Up, int Down) AddDuplex(int a, int b, double bytesPerSecond, double latencySeconds, string tierName)
    {
        var up = AddLink(a, b, bytesPerSecond, latencySeconds, tierName);
        var down = AddLink(b, a, bytesPerSecond, latencySeconds, tierName);
        _links[up].ReverseId = down;
        _links[down].ReverseId = up;
        return (up, down);
    }

    public ClusterGraph Build()
    {
        var missing = Array.IndexOf(_gpuVertex, -1);
        if (missing >= 0) throw new InvalidOperationException($"the graph has no vertex for GPU {missing}");
        var graph = new ClusterGraph(Cluster, Fabric, ScaleOut, [.. _vertices], [.. _links], (int[])_gpuVertex.Clone(), [.. _forwards]);
        // A builder that leaves a piece unconnected is a bug, not an input error: fail loudly.
        var components = new Dictionary<int, int>();
        var count = graph.Graph.WeaklyConnectedComponents(components);
        if (count > 1) throw new InvalidOperationException($"the cluster graph of '{Cluster.Name}' falls apart into {count} pieces");
        return graph;
    }
}
