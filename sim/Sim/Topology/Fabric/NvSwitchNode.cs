namespace Sim.Topology.Fabric;

/// <summary>
/// An HGX/DGX node: every GPU's NVLinks go to the NVSwitch chips, which together act as one non-blocking
/// switch. One vertex stands for all the chips: a GPU's links are spread over them, so what limits a
/// transfer is the GPU's own port bandwidth (intra_node.bytes_per_second each way), not a chip.
/// </summary>
internal static class NvSwitchNode
{
    public static void Wire(ClusterGraphBuilder b, int node, int pod, IReadOnlyList<int> gpus)
    {
        var link = b.Cluster.IntraNode;
        var nvswitch = b.AddVertex(VertexKind.NvSwitch, $"n{node}.nvswitch", node, pod);
        // Half the GPU-to-GPU latency on each of the two hops keeps a transfer's latency at intra_node.latency_seconds.
        foreach (var gpu in gpus)
            b.AddDuplex(gpu, nvswitch, link.BytesPerSecond, link.LatencySeconds / 2, TierNames.NvLink);
    }
}
