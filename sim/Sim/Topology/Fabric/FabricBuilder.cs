namespace Sim.Topology.Fabric;

/// <summary>Builds the cluster graph a topology describes: nodes (GPUs, NVLink, host side), then the scale-out.</summary>
internal static class FabricBuilder
{
    public static ClusterGraph Build(Cluster c)
    {
        var f = c.Fabric ?? FabricSpec.Flat;
        var shape = ScaleOutShape.Resolve(c, f);
        var b = new ClusterGraphBuilder(c, f) { ScaleOut = shape };
        var nics = new int[c.Nodes][];
        for (var node = 0; node < c.Nodes; node++)
        {
            var pod = node / shape.NodesPerPod;
            var gpus = new int[c.GpusPerNode];
            for (var l = 0; l < gpus.Length; l++) gpus[l] = b.AddGpu(node * c.GpusPerNode + l, f.Node.GpuForwarding, pod);
            if (f.Node.Kind == NodeKind.HybridCubeMesh) HybridCubeMeshNode.Wire(b, gpus, f.Node.GpuLinkBytesPerSecond);
            else NvSwitchNode.Wire(b, node, pod, gpus);
            nics[node] = NodeHost.Wire(b, f, node, pod, gpus);
        }
        if (shape.Kind == ScaleOutKind.NonBlocking) NonBlockingFabric.Wire(b, nics);
        else LeafSpineFabric.Wire(b, shape, nics);
        return b.Build();
    }
}
