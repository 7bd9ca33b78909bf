using Sim.Topology;
using Sim.Topology.Fabric;

namespace Sim.Collectives;

/// <summary>
/// What a tapered scale-out fabric (leaf-spine or three tiers, oversubscribed) does to the closed-form collective
/// times. A leaf's (or pod's) GPUs share its uplinks: an all-to-all takes at least the larger of the bytes leaving and
/// entering that subtree over the uplinks' capacity, and a ring step that crosses it shares them with the other
/// rails' rings. Subtrees are the GPUs of a PCIe switch when they share its NICs, and those of
/// <see cref="ScaleOutShape"/>: whole nodes under a fat-tree leaf, one rail of a group of nodes under a rail-optimised
/// leaf, whole nodes in a pod. Traffic between GPUs of one node stays on NVLink.
/// </summary>
internal sealed class FabricBottleneck
{
    private readonly Cluster _c;
    private readonly List<Subtree> _subtrees;
    private readonly double _ringBytesPerSecond;

    /// <summary>A subtree: its GPUs and the capacity of the links leaving it (the same enters it).</summary>
    private sealed record Subtree(int[] Ranks, double UplinkBytesPerSecond);

    private FabricBottleneck(Cluster c, List<Subtree> subtrees, double ringBytesPerSecond)
    {
        _c = c; _subtrees = subtrees; _ringBytesPerSecond = ringBytesPerSecond;
    }

    /// <summary>
    /// The fabric's limits, or null when it has none beyond a NIC per GPU. A subtree whose uplinks carry as much as
    /// its NICs can never hold its GPUs back, so only tapered ones count (a light GPU is not made to wait for its
    /// leaf's heavy ones on a full-bisection fabric).
    /// </summary>
    public static FabricBottleneck? For(Cluster c)
    {
        if (c.Fabric is not { } f || c.Nodes <= 1) return null;
        var s = ScaleOutShape.Resolve(c, f);
        int g = c.GpusPerNode, perNic = f.Nic.GpusPerNic;
        if (!s.HasSpines && perNic == 1) return null;
        var subtrees = new List<Subtree>();
        var ring = s.NicBytesPerSecond;
        if (perNic > 1)
        {
            // GPUs share the NICs of their PCIe switch, and so do their rails' rings.
            var perSwitch = f.Node.GpusPerPcieSwitch;
            for (var first = 0; first < c.WorldSize; first += perSwitch)
                subtrees.Add(new Subtree(Enumerable.Range(first, perSwitch).ToArray(), perSwitch / perNic * s.NicBytesPerSecond));
            ring = s.NicBytesPerSecond / perNic;
        }
        if (s.HasSpines)
        {
            var leafUp = s.SpinesPerPod * s.LeafToSpineBytesPerSecond;
            var leafRailsCrossing = s.Kind == ScaleOutKind.RailOptimized ? 1 : s.NicsPerNode;
            for (var pod = 0; pod < s.Pods && s.LeafTapered; pod++)
                for (var group = 0; group < s.NodesPerPod / s.NodesPerLeaf; group++)
                {
                    var nodes = Enumerable.Range(pod * s.NodesPerPod + group * s.NodesPerLeaf, s.NodesPerLeaf);
                    if (s.Kind == ScaleOutKind.RailOptimized)
                        for (var nic = 0; nic < s.NicsPerNode; nic++)
                            subtrees.Add(new Subtree(nodes.SelectMany(n => Enumerable.Range(n * g + nic * perNic, perNic)).ToArray(), leafUp));
                    else
                        subtrees.Add(new Subtree(nodes.SelectMany(n => Enumerable.Range(n * g, g)).ToArray(), leafUp));
                }
            // The inter-node rings (one per rail) leave each leaf once: they share its uplinks, one path each.
            ring = Math.Min(ring, Math.Min(s.LeafToSpineBytesPerSecond, leafUp / (leafRailsCrossing * perNic)));
        }
        if (s.HasSuperSpines)
        {
            var podUp = s.SpinesPerPod * s.SuperSpines * s.SpineToSuperSpineBytesPerSecond;
            for (var pod = 0; pod < s.Pods && s.PodTapered; pod++)
                subtrees.Add(new Subtree(Enumerable.Range(pod * s.NodesPerPod * g, s.NodesPerPod * g).ToArray(), podUp));
            ring = Math.Min(ring, Math.Min(s.SpineToSuperSpineBytesPerSecond, podUp / g));
        }
        return subtrees.Count == 0 && ring >= s.NicBytesPerSecond ? null : new FabricBottleneck(c, subtrees, ring);
    }

    /// <summary>Per-NIC bandwidth an inter-node ring step gets where it crosses the fabric's tightest boundary.</summary>
    public double RingBytesPerSecond => _ringBytesPerSecond;

    /// <summary>
    /// Per rank, the seconds its subtrees' uplinks need for the all-to-all (the largest over its leaf and pod), at
    /// <paramref name="efficiency"/> of their capacity. The demand is separable (bytes(s, t) = To[s] + From[t]).
    /// </summary>
    public double[] AllToAllSeconds(AllToAllDemand d, double efficiency)
    {
        var w = d.World;
        var seconds = new double[w];
        double to = d.ToEachPeer.Sum(), from = d.FromEachPeer.Sum();
        var inside = new bool[w];
        foreach (var sub in _subtrees)
        {
            foreach (var r in sub.Ranks) inside[r] = true;
            var (leaving, entering) = CrossingBytes(_c, d, sub.Ranks, inside, to, from);
            var s = Math.Max(leaving, entering) / (sub.UplinkBytesPerSecond * efficiency);
            foreach (var r in sub.Ranks) { inside[r] = false; seconds[r] = Math.Max(seconds[r], s); }
        }
        return seconds;
    }

    /// <summary>
    /// Bytes of an all-to-all leaving and entering a subtree (<paramref name="ranks"/>, marked in
    /// <paramref name="inside"/>), given the demand's totals: pairs with one end inside, less those within one node,
    /// which use NVLink (a rail-optimised leaf holds one rail of its nodes).
    /// </summary>
    public static (double Leaving, double Entering) CrossingBytes(Cluster c, AllToAllDemand d, int[] ranks, bool[] inside, double toTotal, double fromTotal)
    {
        double toB = 0, fromB = 0, sameOut = 0, sameIn = 0, w = d.World, n = ranks.Length;
        var g = c.GpusPerNode;
        foreach (var r in ranks)
        {
            toB += d.ToEachPeer[r];
            fromB += d.FromEachPeer[r];
            for (var t = c.NodeOf(r) * g; t < (c.NodeOf(r) + 1) * g; t++)
                if (!inside[t]) { sameOut += d.Bytes(r, t); sameIn += d.Bytes(t, r); }
        }
        return (toB * (w - n) + n * (fromTotal - fromB) - sameOut, (toTotal - toB) * n + fromB * (w - n) - sameIn);
    }
}
