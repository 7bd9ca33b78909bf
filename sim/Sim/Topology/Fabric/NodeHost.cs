using Sim.Hardware;

namespace Sim.Topology.Fabric;

/// <summary>
/// The host side of a node: PCIe switches (each holding some GPUs and the NICs that serve them, so RDMA
/// stays under one switch), CPU sockets above them, and socket-to-socket links. Returns the node's NICs in
/// order (NIC k serves GPUs k·gpus_per_nic onwards).
/// </summary>
internal static class NodeHost
{
    public static int[] Wire(ClusterGraphBuilder b, FabricSpec f, int node, int pod, IReadOnlyList<int> gpus)
    {
        var c = b.Cluster;
        var g = gpus.Count;
        var perSwitch = f.Node.GpusPerPcieSwitch;
        var perNic = f.Nic.GpusPerNic;
        var switches = g / perSwitch;
        var nicsPerSwitch = perSwitch / perNic;
        // Without a PCIe figure the PCIe links are sized to carry their NICs at full speed: they never limit.
        var pcieBw = f.Node.Pcie?.BytesPerSecond ?? c.ScaleOut.BytesPerSecond * nicsPerSwitch;
        var pcieLat = (f.Node.Pcie?.LatencySeconds ?? 0) / 2;

        var sockets = f.Node.CpuSockets;
        var cpus = new int[sockets];
        for (var s = 0; s < sockets; s++) cpus[s] = b.AddVertex(VertexKind.Cpu, $"n{node}.cpu{s}", node, pod);
        WireSockets(b, c, f.Node.CpuLink, cpus);

        var nics = new int[g / perNic];
        for (var j = 0; j < switches; j++)
        {
            var sw = b.AddVertex(VertexKind.PcieSwitch, $"n{node}.pcie{j}", node, pod);
            b.AddDuplex(sw, cpus[j * sockets / switches], pcieBw, pcieLat, TierNames.Pcie);
            for (var l = j * perSwitch; l < (j + 1) * perSwitch; l++)
                b.AddDuplex(gpus[l], sw, pcieBw, pcieLat, TierNames.Pcie);
            for (var k = j * nicsPerSwitch; k < (j + 1) * nicsPerSwitch; k++)
            {
                nics[k] = b.AddVertex(VertexKind.Nic, $"n{node}.nic{k}", node, pod);
                b.AddDuplex(sw, nics[k], pcieBw, pcieLat, TierNames.Pcie);
            }
        }
        return nics;
    }

    /// <summary>
    /// Sockets are joined as a hypercube when their count is a power of two (2: one link; 8: each socket to 3
    /// others, as 8-socket Xeon boards do), else as a ring. Without a cpu_link figure the links get the node's
    /// DDR bandwidth per socket (a placeholder: only host-memory traffic uses them).
    /// </summary>
    private static void WireSockets(ClusterGraphBuilder b, Cluster c, LinkSpec? link, int[] cpus)
    {
        var n = cpus.Length;
        if (n < 2) return;
        var bw = link?.BytesPerSecond ?? c.Host.DdrBytesPerSecond / n;
        var lat = (link?.LatencySeconds ?? 0) / 2;
        var powerOfTwo = (n & (n - 1)) == 0;
        for (var a = 0; a < n; a++)
        {
            if (powerOfTwo)
            {
                for (var bit = 1; bit < n; bit <<= 1)
                    if ((a ^ bit) > a) b.AddDuplex(cpus[a], cpus[a ^ bit], bw, lat, TierNames.Cpu);
            }
            else if (n > 2 || a == 0)
                b.AddDuplex(cpus[a], cpus[(a + 1) % n], bw, lat, TierNames.Cpu);
        }
    }
}
