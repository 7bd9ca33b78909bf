using Sim.Topology.Routing;

namespace Sim.Topology;

/// <summary>
/// The cluster graph as the event engine sees it (<see cref="INetwork"/>): every one-way link, and for any
/// two GPUs the ECMP-chosen shortest path. Link ids are the graph's link ids.
/// </summary>
internal sealed class GraphNetwork : INetwork
{
    private readonly EcmpRouter _router;

    public ClusterGraph Graph { get; }
    public IReadOnlyList<NetworkLink> Links { get; }

    public GraphNetwork(ClusterGraph graph)
    {
        Graph = graph;
        _router = new EcmpRouter(graph);
        var v = graph.Vertices;
        Links = graph.Links
            .Select(l => new NetworkLink(l.Id, v[l.Source].Name, v[l.Target].Name, l.Tier, l.BytesPerSecond, l.LatencySeconds) { TierName = l.TierName })
            .ToArray();
    }

    public IReadOnlyList<int> Route(int srcRank, int dstRank) => _router.Route(srcRank, dstRank).LinkIds;

    /// <summary>The full route: links, latency, and the number of equal-cost paths it was chosen from.</summary>
    public Route RouteDetail(int srcRank, int dstRank) => _router.Route(srcRank, dstRank);
}
