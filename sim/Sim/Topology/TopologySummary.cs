using Sim.Topology.Fabric;
using Sim.Topology.Routing;

namespace Sim.Topology;

/// <summary>One fine tier of links as `sim topology describe` shows it.</summary>
/// <param name="InjectionBytesPerSecondPerGpu">What every GPU can push into this tier at once (the tier's upward capacity over the GPU count); NaN where the idea does not apply.</param>
internal sealed record TierSummary(
    string Tier,
    string Description,
    int Links,
    double MinBytesPerSecond,
    double MaxBytesPerSecond,
    double LatencySeconds,
    double InjectionBytesPerSecondPerGpu,
    string Source);

/// <summary>What `sim topology describe` reports: shape, tiers, bisection, diameter and where the numbers came from.</summary>
internal sealed record TopologySummary(
    string Name,
    int Gpus,
    int Nodes,
    int Pods,
    string GpuModel,
    string NodeKind,
    int GpusPerNic,
    string ScaleOutKind,
    ScaleOutShape ScaleOut,
    IReadOnlyList<(VertexKind Kind, int Count)> Vertices,
    int OneWayLinks,
    IReadOnlyList<TierSummary> Tiers,
    double BisectionBytesPerSecond,
    int DiameterHops,
    double MaxEqualCostPaths,
    IReadOnlyList<(string What, string Source)> Sources)
{
    /// <summary>Above this many GPUs, diameter and ECMP are measured from sample GPUs (the builders' shapes are symmetric).</summary>
    public const int ExhaustiveGpuLimit = 256;

    public static TopologySummary Describe(Cluster c) => Describe(c.BuildGraph());

    public static TopologySummary Describe(ClusterGraph g)
    {
        var c = g.Cluster;
        var f = g.Fabric;
        var shape = g.ScaleOut ?? ScaleOutShape.Resolve(c, f);
        var tiers = TierNames.All
            .Select(t => Tier(g, t))
            .Where(t => t is not null)
            .Select(t => t!)
            .ToList();
        var vertices = Enum.GetValues<VertexKind>()
            .Select(k => (k, g.CountVertices(k)))
            .Where(x => x.Item2 > 0)
            .ToList();
        var (diameter, ecmp) = DiameterAndEcmp(g);
        return new TopologySummary(c.Name, c.WorldSize, c.Nodes, shape.Pods, c.Gpu.Model, FabricSpec.Word(f.Node.Kind), f.Nic.GpusPerNic,
            FabricSpec.Word(shape.Kind), shape, vertices, g.Links.Count, tiers, BisectionBandwidth.BytesPerSecond(g), diameter, ecmp, SourcesOf(c, f));
    }

    private static TierSummary? Tier(ClusterGraph g, string tier)
    {
        var links = g.Links.Where(l => l.TierName == tier).ToList();
        if (links.Count == 0) return null;
        var v = g.Vertices;
        // The upward links of each tier, i.e. the cut every GPU's traffic must cross to use the tier.
        Func<ClusterLink, bool>? up = tier switch
        {
            TierNames.NvLink or TierNames.Pcie => l => v[l.Source].Kind == VertexKind.Gpu,
            TierNames.Nic => l => v[l.Source].Kind == VertexKind.Nic,
            TierNames.Leaf => l => v[l.Source].Kind == VertexKind.Leaf,
            TierNames.Spine => l => v[l.Source].Kind == VertexKind.Spine,
            _ => null,
        };
        var injection = up is null ? double.NaN : links.Where(up).Sum(l => l.BytesPerSecond) / g.WorldSize;
        return new TierSummary(tier, TierNames.Describe(tier), links.Count, links.Min(l => l.BytesPerSecond), links.Max(l => l.BytesPerSecond),
            links.Max(l => l.LatencySeconds), injection, TierSource(g, tier));
    }

    private static string TierSource(ClusterGraph g, string tier)
    {
        var c = g.Cluster;
        var f = g.Fabric;
        return tier switch
        {
            TierNames.NvLink => c.IntraNode.Provenance.Source,
            TierNames.Pcie => f.Node.Pcie?.Provenance.Source ?? "not given: sized to carry the NICs at full speed (never limits)",
            TierNames.Cpu => f.Node.CpuLink?.Provenance.Source ?? "not given: DDR bandwidth per socket (placeholder; GPU traffic does not use it)",
            TierNames.Nic => c.ScaleOut.Provenance.Source,
            TierNames.Leaf => "derived: a leaf's NIC ports x NIC speed / oversubscription, split over the spines (see fabric.scale_out)",
            _ => "derived: a pod's leaf uplinks / pod_oversubscription, split over the super-spines (see fabric.scale_out)",
        };
    }

    /// <summary>Longest shortest path between GPUs (hops) and the most equal-cost paths between any two GPUs.</summary>
    private static (int Diameter, double Ecmp) DiameterAndEcmp(ClusterGraph g)
    {
        var c = g.Cluster;
        IEnumerable<int> sources;
        if (g.WorldSize <= ExhaustiveGpuLimit) sources = Enumerable.Range(0, g.WorldSize);
        else
        {
            // Every GPU of the first and last node, and of the first node of each pod: the builders are
            // symmetric under moving nodes within a pod and pods within the cluster.
            var perPod = g.ScaleOut?.NodesPerPod ?? c.Nodes;
            var nodes = new SortedSet<int> { 0, c.Nodes - 1 };
            for (var n = 0; n < c.Nodes; n += perPod) nodes.Add(n);
            sources = nodes.SelectMany(n => Enumerable.Range(n * c.GpusPerNode, c.GpusPerNode));
        }
        var search = new ShortestPathSearch(g);
        var diameter = 0;
        double ecmp = 1;
        foreach (var r in sources)
        {
            search.Run(g.VertexOfRank(r));
            for (var d = 0; d < g.WorldSize; d++)
            {
                var v = g.VertexOfRank(d);
                if (d == r || !search.Reached(v)) continue;
                diameter = Math.Max(diameter, search.Hops(v));
                ecmp = Math.Max(ecmp, search.Paths(v));
            }
        }
        return (diameter, ecmp);
    }

    private static List<(string, string)> SourcesOf(Cluster c, FabricSpec f)
    {
        var list = new List<(string, string)>
        {
            ("cluster", c.Source),
            ("gpu", c.Gpu.Provenance.Source),
            ("intra_node", c.IntraNode.Provenance.Source),
            ("scale_out", c.ScaleOut.Provenance.Source),
            ("host", c.Host.Provenance.Source),
            ("fabric.node", f.Node.Source),
            ("fabric.nic", f.Nic.Source),
            ("fabric.scale_out", f.ScaleOut.Source),
        };
        if (c.Host.Ssd is { } ssd) list.Add(("host.ssd", ssd.Provenance.Source));
        if (f.Node.Pcie is { } p) list.Add(("fabric.node.pcie", p.Provenance.Source));
        if (f.Node.CpuLink is { } l) list.Add(("fabric.node.cpu_link", l.Provenance.Source));
        return list;
    }
}
