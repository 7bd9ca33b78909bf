namespace Sim.Topology.Fabric;

/// <summary>
/// A hybrid cube mesh of 8 GPUs (Zion, DGX-1): two quads, each fully connected, plus a link from every GPU
/// to the same slot of the other quad, so each GPU has 4 neighbours. Pairs that are not neighbours take two
/// NVLink hops through a relaying GPU (when the fabric allows it) or go round through PCIe.
/// </summary>
internal static class HybridCubeMeshNode
{
    public const int Gpus = 8;

    /// <summary>Whether local GPUs <paramref name="a"/> and <paramref name="b"/> share a direct link.</summary>
    public static bool Adjacent(int a, int b) => a != b && (a / 4 == b / 4 || (a ^ 4) == b);

    public static int Degree => 4;

    public static void Wire(ClusterGraphBuilder b, IReadOnlyList<int> gpus, double? linkBytesPerSecond)
    {
        var intra = b.Cluster.IntraNode;
        // Without a per-link figure, the GPU's NVLink bandwidth is shared evenly by its 4 links.
        var bw = linkBytesPerSecond ?? intra.BytesPerSecond / Degree;
        for (var i = 0; i < Gpus; i++)
            for (var j = i + 1; j < Gpus; j++)
                if (Adjacent(i, j)) b.AddDuplex(gpus[i], gpus[j], bw, intra.LatencySeconds, TierNames.NvLink);
    }
}
