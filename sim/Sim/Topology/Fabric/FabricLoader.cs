using Sim.Config;
using Sim.Hardware;

namespace Sim.Topology.Fabric;

/// <summary>
/// Reads the optional `fabric:` section of a topology file. Shape errors (a NIC count that does not divide
/// the GPUs, pods that do not divide the nodes, a cube mesh that is not 8 GPUs) are reported at the field
/// that causes them, like every other input error.
/// </summary>
internal static class FabricLoader
{
    private static readonly IReadOnlyDictionary<string, bool> Placements = new Dictionary<string, bool>
    {
        ["per_gpu"] = false, ["shared"] = true,
    };

    public static FabricSpec Read(YamlMap m, int nodes, int gpusPerNode)
    {
        var node = ReadNode(m.RequireMap("node"), gpusPerNode);
        var nic = ReadNic(m.RequireMap("nic"), gpusPerNode);
        // Default: one PCIe switch per NIC, holding the GPUs that NIC serves (GPUDirect RDMA stays under one switch).
        if (node.GpusPerPcieSwitch == 0) node = node with { GpusPerPcieSwitch = nic.GpusPerNic };
        if (gpusPerNode % node.GpusPerPcieSwitch != 0 || node.GpusPerPcieSwitch % nic.GpusPerNic != 0)
        {
            var pcie = m.RequireMap("node");
            throw pcie.Error("gpus_per_pcie_switch",
                $"{node.GpusPerPcieSwitch} must divide gpus_per_node ({gpusPerNode}) and be a multiple of gpus_per_nic ({nic.GpusPerNic}): a NIC sits on the PCIe switch of the GPUs it serves");
        }
        var scaleOut = ReadScaleOut(m.RequireMap("scale_out"), nodes);
        m.OptionalString("source");
        m.EnsureNoUnknownKeys();
        return new FabricSpec(node, nic, scaleOut);
    }

    private static NodeFabric ReadNode(YamlMap m, int gpusPerNode)
    {
        var kind = m.RequireEnum("kind", FabricSpec.NodeWords);
        if (kind == NodeKind.HybridCubeMesh && gpusPerNode != 8)
            throw m.Error("kind", $"hybrid_cube_mesh wires exactly 8 GPUs, but gpus_per_node is {gpusPerNode}");
        var sockets = m.OptionalInt("cpu_sockets", 1, 1, 64);
        var perSwitch = m.OptionalInt("gpus_per_pcie_switch", 0, 1, gpusPerNode);
        var pcie = m.OptionalMap("pcie") is { } p ? ReadLink(p, "pcie") : null;
        var cpuLink = m.OptionalMap("cpu_link") is { } c ? ReadLink(c, "cpu_link") : null;
        if (cpuLink is not null && sockets == 1)
            throw m.Error("cpu_link", "a CPU-to-CPU link needs cpu_sockets of at least 2");
        double? gpuLink = null;
        if (m.Has("gpu_link_bytes_per_second"))
        {
            if (kind != NodeKind.HybridCubeMesh)
                throw m.Error("gpu_link_bytes_per_second", "only a hybrid_cube_mesh node has direct GPU-to-GPU links; an nvswitch node uses intra_node.bytes_per_second");
            gpuLink = m.RequirePositive("gpu_link_bytes_per_second", 1e15);
        }
        var forwarding = false;
        if (m.Has("gpu_forwarding"))
        {
            if (kind != NodeKind.HybridCubeMesh)
                throw m.Error("gpu_forwarding", "only a hybrid_cube_mesh node relays traffic through GPUs");
            forwarding = m.OptionalBool("gpu_forwarding", true);
        }
        else forwarding = kind == NodeKind.HybridCubeMesh;
        var source = m.RequireString("source");
        m.EnsureNoUnknownKeys();
        return new NodeFabric(kind, sockets, perSwitch, pcie, cpuLink, gpuLink, forwarding, source);
    }

    private static NicFabric ReadNic(YamlMap m, int gpusPerNode)
    {
        var shared = m.RequireEnum("placement", Placements);
        int perNic;
        if (shared)
        {
            perNic = m.RequireInt("gpus_per_nic", 1, gpusPerNode);
            if (gpusPerNode % perNic != 0)
                throw m.Error("gpus_per_nic", $"{perNic} does not divide gpus_per_node ({gpusPerNode})");
        }
        else
        {
            if (m.Has("gpus_per_nic"))
                throw m.Error("gpus_per_nic", "only a shared NIC placement takes gpus_per_nic (per_gpu means 1)");
            perNic = 1;
        }
        var source = m.RequireString("source");
        m.EnsureNoUnknownKeys();
        return new NicFabric(perNic, source);
    }

    private static ScaleOutFabric ReadScaleOut(YamlMap m, int nodes)
    {
        var kind = m.RequireEnum("kind", FabricSpec.ScaleOutWords);
        var pods = m.OptionalInt("pods", 1, 1, nodes);
        if (nodes % pods != 0)
            throw m.Error("pods", $"{pods} pods do not divide the {nodes} nodes evenly");
        var nodesPerPod = nodes / pods;
        if (kind == ScaleOutKind.NonBlocking)
        {
            foreach (var key in new[] { "nodes_per_leaf", "spines_per_pod", "super_spines", "oversubscription", "pod_oversubscription" })
                if (m.Has(key)) throw m.Error(key, "a non_blocking scale-out is one ideal switch; this field needs rail_optimized or fat_tree");
            if (pods != 1) throw m.Error("pods", "a non_blocking scale-out has one pod");
        }
        var perLeaf = m.OptionalInt("nodes_per_leaf", 0, 1, nodesPerPod);
        if (perLeaf > 0 && nodesPerPod % perLeaf != 0)
            throw m.Error("nodes_per_leaf", $"{perLeaf} does not divide the {nodesPerPod} nodes of a pod");
        var spines = m.OptionalInt("spines_per_pod", 0, 1, 4096);
        var supers = m.OptionalInt("super_spines", 0, 1, 4096);
        if (supers > 0 && pods == 1)
            throw m.Error("super_spines", "super-spines join pods; with one pod there are none");
        var over = m.OptionalDouble("oversubscription", 1, 1, max: 1000);
        var podOver = m.OptionalDouble("pod_oversubscription", 1, 1, max: 1000);
        if (m.Has("pod_oversubscription") && pods == 1)
            throw m.Error("pod_oversubscription", "needs pods of at least 2 (it is the spine-to-super-spine ratio)");
        var hop = m.OptionalDouble("hop_latency_seconds", 0, 0, max: 1);
        var source = m.RequireString("source");
        m.EnsureNoUnknownKeys();
        return new ScaleOutFabric(kind, pods, perLeaf, spines, supers, over, podOver, hop, source);
    }

    private static LinkSpec ReadLink(YamlMap m, string tier) => TopologyLoader.ReadLink(m, tier);
}
