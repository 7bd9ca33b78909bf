using Sim.Config;
using Sim.Topology;
using Sim.Topology.Fabric;

namespace Sim.Sweep;

/// <summary>
/// A topology as a family: the same node (GPUs, links, memory, fabric kinds) at another node count or GPUs per
/// node. Counts in the `fabric:` section were written for the file's own size, so they are carried over by the
/// loader's rules: pods must divide the nodes, a leaf's node count must divide a pod (a pod smaller than one leaf
/// is one partly filled leaf), NICs and PCIe switches must divide the GPUs of a node, a hybrid cube mesh is
/// 8 GPUs. A size that breaks a rule is infeasible, with a message naming the field.
/// </summary>
internal static class ClusterFamily
{
    public static Cluster Resize(Cluster c, int nodes, int gpusPerNode, string topologyFile)
    {
        if (nodes == c.Nodes && gpusPerNode == c.GpusPerNode) return c;
        var resized = c with { Nodes = nodes, GpusPerNode = gpusPerNode };
        if ((long)nodes * gpusPerNode > 1_000_000)
            throw new SimInputException(topologyFile, "nodes", $"{nodes} nodes x {gpusPerNode} GPUs is more than the 1,000,000 GPUs Sim supports");
        if (c.Fabric is not { } f) return resized;

        SimInputException Bad(string field, string problem) =>
            new(topologyFile, "fabric." + field, $"{problem} (the file's fabric was written for {c.Nodes} nodes x {c.GpusPerNode} GPUs)");

        if (f.Node.Kind == NodeKind.HybridCubeMesh && gpusPerNode != 8)
            throw Bad("node.kind", $"hybrid_cube_mesh wires exactly 8 GPUs, not {gpusPerNode}");
        if (gpusPerNode % f.Nic.GpusPerNic != 0)
            throw Bad("nic.gpus_per_nic", $"{f.Nic.GpusPerNic} GPUs per NIC do not divide {gpusPerNode} GPUs per node");
        if (f.Node.GpusPerPcieSwitch > 0 && gpusPerNode % f.Node.GpusPerPcieSwitch != 0)
            throw Bad("node.gpus_per_pcie_switch", $"{f.Node.GpusPerPcieSwitch} GPUs per PCIe switch do not divide {gpusPerNode} GPUs per node");
        var s = f.ScaleOut;
        if (nodes % s.Pods != 0)
            throw Bad("scale_out.pods", $"{s.Pods} pods do not divide {nodes} nodes evenly");
        var perPod = nodes / s.Pods;
        var perLeaf = s.NodesPerLeaf;
        if (perLeaf > perPod) perLeaf = perPod;
        if (perLeaf > 0 && perPod % perLeaf != 0)
            throw Bad("scale_out.nodes_per_leaf", $"{s.NodesPerLeaf} nodes per leaf do not divide the {perPod} nodes of a pod");
        return perLeaf == s.NodesPerLeaf ? resized : resized with { Fabric = f with { ScaleOut = s with { NodesPerLeaf = perLeaf } } };
    }
}
