using Sim.Hardware;

namespace Sim.Topology;

/// <summary>
/// First-version cluster: N identical nodes of G GPUs, an intra-node fabric (NVLink/NVSwitch) and one
/// scale-out NIC per GPU. Ranks are numbered node-major: rank = node * G + local.
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

    /// <summary>The links and routes the event engine simulates flows on (built on demand: records are copied with `with`).</summary>
    public INetwork BuildNetwork() => new FlatNetwork(this);

    public string DescribeRank(int rank) => $"GPU {rank} (node {NodeOf(rank)}, local {LocalIndex(rank)})";

    /// <summary>A copy with other shape or link speeds, for what-if questions.</summary>
    public Cluster WithScaleOutBandwidth(double bytesPerSecond) =>
        this with { ScaleOut = ScaleOut with { BytesPerSecond = bytesPerSecond } };
}
