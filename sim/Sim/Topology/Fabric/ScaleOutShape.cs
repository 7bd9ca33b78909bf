namespace Sim.Topology.Fabric;

/// <summary>
/// The scale-out fabric with every default resolved: switch counts and per-link bandwidths. Bandwidths
/// follow from the NIC speed and the oversubscription ratios, so that changing the NIC speed (a what-if)
/// keeps the fabric's shape.
/// </summary>
public sealed record ScaleOutShape(
    ScaleOutKind Kind,
    int Pods,
    int NodesPerPod,
    int NicsPerNode,
    int NodesPerLeaf,
    int LeavesPerPod,
    int SpinesPerPod,
    int SuperSpines,
    double NicBytesPerSecond,
    double LeafToSpineBytesPerSecond,
    double SpineToSuperSpineBytesPerSecond,
    double HopLatencySeconds)
{
    /// <summary>A leaf switch's ports towards NICs when none is given: a 64-port switch with half its ports up (assumed).</summary>
    public const int DefaultLeafDownPorts = 32;

    public bool HasSpines => Kind != ScaleOutKind.NonBlocking && (LeavesPerPod > 1 || Pods > 1);
    public bool HasSuperSpines => Kind != ScaleOutKind.NonBlocking && Pods > 1;

    /// <summary>NIC ports under one leaf.</summary>
    public int LeafDownPorts => Kind == ScaleOutKind.RailOptimized ? NodesPerLeaf : NodesPerLeaf * NicsPerNode;

    /// <summary>Whether a leaf's uplinks carry less than its NICs can send (oversubscribed at the leaves).</summary>
    public bool LeafTapered => HasSpines && SpinesPerPod * LeafToSpineBytesPerSecond < LeafDownPorts * NicBytesPerSecond * (1 - 1e-9);

    /// <summary>Whether a pod's uplinks carry less than its NICs can send (oversubscribed between pods).</summary>
    public bool PodTapered => HasSuperSpines && SpinesPerPod * SuperSpines * SpineToSuperSpineBytesPerSecond < NodesPerPod * NicsPerNode * NicBytesPerSecond * (1 - 1e-9);

    public static ScaleOutShape Resolve(Cluster c, FabricSpec f)
    {
        var s = f.ScaleOut;
        var nics = c.GpusPerNode / f.Nic.GpusPerNic;
        var nicBw = c.ScaleOut.BytesPerSecond;
        var nodesPerPod = c.Nodes / s.Pods;
        if (s.Kind == ScaleOutKind.NonBlocking)
            return new ScaleOutShape(s.Kind, 1, c.Nodes, nics, c.Nodes, 1, 0, 0, nicBw, 0, 0, s.HopLatencySeconds);

        var perLeaf = s.NodesPerLeaf > 0 ? s.NodesPerLeaf
            : Divisors.LargestAtMost(nodesPerPod, s.Kind == ScaleOutKind.RailOptimized ? DefaultLeafDownPorts : Math.Max(1, DefaultLeafDownPorts / nics));
        var groups = nodesPerPod / perLeaf;
        var leaves = s.Kind == ScaleOutKind.RailOptimized ? groups * nics : groups;
        var down = s.Kind == ScaleOutKind.RailOptimized ? perLeaf : perLeaf * nics;
        var hasSpines = leaves > 1 || s.Pods > 1;
        var spines = !hasSpines ? 0 : s.SpinesPerPod > 0 ? s.SpinesPerPod : Math.Max(1, Math.Min(leaves, down));
        var leafUp = hasSpines ? down * nicBw / s.Oversubscription / spines : 0;
        var supers = s.Pods <= 1 ? 0 : s.SuperSpines > 0 ? s.SuperSpines : spines;
        var spineUp = supers > 0 ? leaves * leafUp / s.PodOversubscription / supers : 0;
        return new ScaleOutShape(s.Kind, s.Pods, nodesPerPod, nics, perLeaf, leaves, spines, supers, nicBw, leafUp, spineUp, s.HopLatencySeconds);
    }
}
