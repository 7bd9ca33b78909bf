namespace Sim.Topology.Fabric;

/// <summary>
/// A two- or three-tier Clos. Per pod: leaves (rail-optimised: one per group of nodes and NIC index, so
/// same-rail traffic turns at the leaf; fat tree: one per group of nodes) and spines joined all-to-all;
/// across pods, every spine joins every super-spine. Uplink bandwidths come from
/// <see cref="ScaleOutShape"/>, i.e. from the NIC speed over the oversubscription ratio.
/// </summary>
internal static class LeafSpineFabric
{
    public static void Wire(ClusterGraphBuilder b, ScaleOutShape s, int[][] nicsPerNode)
    {
        var nicLatency = b.Cluster.ScaleOut.LatencySeconds / 2;
        var supers = new int[s.SuperSpines];
        for (var q = 0; q < supers.Length; q++) supers[q] = b.AddVertex(VertexKind.SuperSpine, $"superspine{q}");

        for (var pod = 0; pod < s.Pods; pod++)
        {
            var leaves = new int[s.LeavesPerPod];
            for (var i = 0; i < leaves.Length; i++) leaves[i] = b.AddVertex(VertexKind.Leaf, LeafName(s, pod, i), -1, pod);
            var spines = new int[s.SpinesPerPod];
            for (var i = 0; i < spines.Length; i++) spines[i] = b.AddVertex(VertexKind.Spine, $"p{pod}.spine{i}", -1, pod);

            for (var local = 0; local < s.NodesPerPod; local++)
            {
                var nics = nicsPerNode[pod * s.NodesPerPod + local];
                var group = local / s.NodesPerLeaf;
                for (var k = 0; k < nics.Length; k++)
                {
                    var leaf = s.Kind == ScaleOutKind.RailOptimized ? group * s.NicsPerNode + k : group;
                    b.AddDuplex(nics[k], leaves[leaf], s.NicBytesPerSecond, nicLatency, TierNames.Nic);
                }
            }
            foreach (var leaf in leaves)
                foreach (var spine in spines)
                    b.AddDuplex(leaf, spine, s.LeafToSpineBytesPerSecond, s.HopLatencySeconds, TierNames.Leaf);
            foreach (var spine in spines)
                foreach (var super in supers)
                    b.AddDuplex(spine, super, s.SpineToSuperSpineBytesPerSecond, s.HopLatencySeconds, TierNames.Spine);
        }
    }

    private static string LeafName(ScaleOutShape s, int pod, int i) => s.Kind == ScaleOutKind.RailOptimized
        ? $"p{pod}.g{i / s.NicsPerNode}.rail{i % s.NicsPerNode}"
        : $"p{pod}.leaf{i}";
}
