namespace Sim.Topology.Fabric;

/// <summary>
/// One ideal switch joining every NIC: full bisection, contention only at the NICs. This is what the
/// first-version flat model assumed, and what a topology without `fabric:` still means.
/// </summary>
internal static class NonBlockingFabric
{
    public static void Wire(ClusterGraphBuilder b, int[][] nicsPerNode)
    {
        var link = b.Cluster.ScaleOut;
        var sw = b.AddVertex(VertexKind.Switch, "switch");
        foreach (var nics in nicsPerNode)
            foreach (var nic in nics)
                b.AddDuplex(nic, sw, link.BytesPerSecond, link.LatencySeconds / 2, TierNames.Nic);
    }
}
