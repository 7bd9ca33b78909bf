using Sim.Hardware;

namespace Sim.Topology.Fabric;

/// <summary>How the GPUs inside one node talk to each other.</summary>
public enum NodeKind
{
    /// <summary>HGX/DGX: every GPU has one port into a non-blocking NVSwitch plane.</summary>
    NvSwitch,
    /// <summary>Zion/DGX-1 style: 8 GPUs, each wired to 4 others (two fully connected quads plus a link to the same slot of the other quad).</summary>
    HybridCubeMesh,
}

/// <summary>Shape of the network between nodes.</summary>
public enum ScaleOutKind
{
    /// <summary>One ideal switch: what the first-version flat model assumes.</summary>
    NonBlocking,
    /// <summary>Leaf per (group of nodes, rail): NIC k of every node in the group goes to leaf k; leaves meet at spines.</summary>
    RailOptimized,
    /// <summary>Leaf per group of nodes (all their NICs); leaves meet at spines; pods meet at super-spines.</summary>
    FatTree,
}

/// <summary>The node-level part of a fabric: kind, CPU sockets, PCIe switches and optional link specs.</summary>
public sealed record NodeFabric(
    NodeKind Kind,
    int CpuSockets,
    int GpusPerPcieSwitch,
    LinkSpec? Pcie,
    LinkSpec? CpuLink,
    double? GpuLinkBytesPerSecond,
    bool GpuForwarding,
    string Source);

/// <summary>How many GPUs share one scale-out NIC (1 = a NIC per GPU).</summary>
public sealed record NicFabric(int GpusPerNic, string Source);

/// <summary>
/// The scale-out network. Counts of 0 mean "choose a default" (see <see cref="ScaleOutShape"/>).
/// Oversubscription is downlink over uplink bandwidth at a switch tier (2 = uplinks carry half).
/// </summary>
public sealed record ScaleOutFabric(
    ScaleOutKind Kind,
    int Pods,
    int NodesPerLeaf,
    int SpinesPerPod,
    int SuperSpines,
    double Oversubscription,
    double PodOversubscription,
    double HopLatencySeconds,
    string Source);

/// <summary>
/// The optional `fabric:` section of a topology file. Link speeds stay in `intra_node` and `scale_out`
/// (per GPU NVLink bandwidth, per NIC bandwidth); the fabric says how those links are wired.
/// </summary>
public sealed record FabricSpec(NodeFabric Node, NicFabric Nic, ScaleOutFabric ScaleOut)
{
    /// <summary>What a topology without `fabric:` means: NVSwitch node, a NIC per GPU, one non-blocking switch.</summary>
    public static readonly FabricSpec Flat = new(
        new NodeFabric(NodeKind.NvSwitch, 1, 1, null, null, null, false, "default: NVSwitch node (no fabric section)"),
        new NicFabric(1, "default: one NIC per GPU (no fabric section)"),
        new ScaleOutFabric(ScaleOutKind.NonBlocking, 1, 0, 0, 0, 1, 1, 0, "default: non-blocking scale-out (no fabric section)"));

    public static IReadOnlyDictionary<string, NodeKind> NodeWords { get; } = new Dictionary<string, NodeKind>
    {
        ["nvswitch"] = NodeKind.NvSwitch, ["hybrid_cube_mesh"] = NodeKind.HybridCubeMesh,
    };

    public static IReadOnlyDictionary<string, ScaleOutKind> ScaleOutWords { get; } = new Dictionary<string, ScaleOutKind>
    {
        ["non_blocking"] = ScaleOutKind.NonBlocking, ["rail_optimized"] = ScaleOutKind.RailOptimized, ["fat_tree"] = ScaleOutKind.FatTree,
    };

    public static string Word(NodeKind k) => NodeWords.First(kv => kv.Value == k).Key;
    public static string Word(ScaleOutKind k) => ScaleOutWords.First(kv => kv.Value == k).Key;
}
