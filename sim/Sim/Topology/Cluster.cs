using Sim.Hardware;
using Sim.Topology.Fabric;

namespace Sim.Topology;

/// <summary>
/// A cluster: N identical nodes of G GPUs, an intra-node fabric (NVLink) and scale-out NICs. Ranks are
/// numbered node-major: rank = node * G + local. <see cref="IntraNode"/> is each GPU's NVLink bandwidth and
/// <see cref="ScaleOut"/> each NIC's; <see cref="Fabric"/> (optional) says how they are wired. Without it the
/// cluster is the first-version flat model: an NVSwitch node and one NIC per GPU on a non-blocking fabric.
/// </summary>
public sealed record Cluster(
    string Name,
    string Source,
    int Nodes,
    int GpusPerNode,
    GpuSpec Gpu,
    LinkSpec IntraNode,
    LinkSpec ScaleOut,
    HostSpec Host)
{
    /// <summary>How nodes, NICs and switches are wired; null means the flat model (<see cref="FabricSpec.Flat"/>).</summary>
    public FabricSpec? Fabric { get; init; }

    /// <summary>Degraded hardware laid over the graph (links, NICs, switches down or slowed); null: everything healthy.</summary>
    public LinkOverlay? Overlay { get; init; }

    public int WorldSize => Nodes * GpusPerNode;
    public int NodeOf(int rank) => rank / GpusPerNode;
    public int LocalIndex(int rank) => rank % GpusPerNode;

    public LinkTier Tier(int a, int b) =>
        a == b ? LinkTier.Local : NodeOf(a) == NodeOf(b) ? LinkTier.IntraNode : LinkTier.ScaleOut;

    public LinkSpec Link(LinkTier tier) => tier switch
    {
        LinkTier.IntraNode => IntraNode,
        LinkTier.ScaleOut => ScaleOut,
        _ => throw new ArgumentOutOfRangeException(nameof(tier), "a rank talking to itself uses no link"),
    };

    /// <summary>
    /// The links and routes the event engine simulates flows on (built on demand: records are copied with `with`).
    /// Without a fabric section this is the cheap <see cref="FlatNetwork"/> (four links per GPU, fine for 16k GPUs);
    /// with one, the routed cluster graph.
    /// </summary>
    public INetwork BuildNetwork() => Fabric is null && Overlay is null ? new FlatNetwork(this) : new GraphNetwork(BuildGraph());

    /// <summary>
    /// The full cluster graph (GPUs, switches, NICs, CPUs), also for a cluster without a fabric section, with the
    /// <see cref="Overlay"/> applied (throws <see cref="Config.SimInputException"/> at the overlay entry that cuts a GPU off).
    /// </summary>
    public ClusterGraph BuildGraph() => Overlay is { } o ? o.Apply(FabricBuilder.Build(this)) : FabricBuilder.Build(this);

    public string DescribeRank(int rank) => $"GPU {rank} (node {NodeOf(rank)}, local {LocalIndex(rank)})";

    /// <summary>A copy with other shape or link speeds, for what-if questions.</summary>
    public Cluster WithScaleOutBandwidth(double bytesPerSecond) =>
        this with { ScaleOut = ScaleOut with { BytesPerSecond = bytesPerSecond } };
}
