using System.Globalization;
using System.Text;
using Sim.Topology.Fabric;

namespace Sim.Topology;

/// <summary>
/// Writes a cluster as an ASTRA-sim 2.x analytical network file: one dimension per level
/// (`topology: [Switch, Switch]` for GPUs of a node, then nodes), `npus_count`, per-link `bandwidth` in
/// the unit ASTRA-sim reads, GiB/s (2^30 B/s: astra-network-analytical's <c>bw_GBps_to_Bpns</c> in
/// common/NetworkFunction.cpp multiplies by 2^30), and per-link `latency` in ns. ASTRA-sim counts a switch as two hops, so a link's latency is
/// half the GPU-to-GPU latency through it. Only shapes ASTRA-sim's dimensions can express are exported;
/// anything else gets a reason instead of a silently wrong file.
/// </summary>
internal static class AstraSimExport
{
    /// <summary>Bytes per second as ASTRA-sim's analytical network reads a `bandwidth` entry: GiB/s (2^30 B/s), not decimal GB/s.</summary>
    public static double GiBPerSecond(double bytesPerSecond) => bytesPerSecond / (1L << 30);

    /// <summary>
    /// The dimensions of the exported network: one for the GPUs of a node (when a node has more than one), one for the
    /// nodes (when there is more than one). The system config needs an algorithm per dimension.
    /// </summary>
    public static int Dimensions(Cluster c) => (c.GpusPerNode > 1 ? 1 : 0) + (c.Nodes > 1 ? 1 : 0);

    /// <summary>The YAML text, or null and <paramref name="whyNot"/> when the shape does not fit.</summary>
    public static string? TryWrite(Cluster c, out string whyNot)
    {
        whyNot = "";
        var f = c.Fabric ?? FabricSpec.Flat;
        var dims = new List<(string Topology, int Npus, double BytesPerSecond, double Ns, string What)>();
        var inv = CultureInfo.InvariantCulture;

        if (c.GpusPerNode > 1)
        {
            if (f.Node.Kind == NodeKind.HybridCubeMesh)
            {
                whyNot = "a hybrid cube mesh (each GPU linked to 4 of the other 7) is not a Ring, FullyConnected or Switch dimension of ASTRA-sim's analytical network";
                return null;
            }
            dims.Add(("Switch", c.GpusPerNode, c.IntraNode.BytesPerSecond, c.IntraNode.LatencySeconds / 2 * 1e9,
                $"GPUs of a node on NVSwitch ({c.IntraNode.BytesPerSecond / 1e9:0.#} GB/s per GPU each way)"));
        }
        if (c.Nodes > 1)
        {
            var s = f.ScaleOut;
            if (s.Oversubscription > 1 || s.PodOversubscription > 1)
            {
                whyNot = $"the scale-out is oversubscribed ({s.Oversubscription.ToString(inv)}:1 at the leaves, {s.PodOversubscription.ToString(inv)}:1 between pods), and an ASTRA-sim Switch dimension is non-blocking";
                return null;
            }
            var shape = ScaleOutShape.Resolve(c, f);
            // Worst-case NIC-to-NIC latency: through the spines, and the super-spines when there are pods.
            var hops = shape.HasSuperSpines ? 4 : shape.HasSpines ? 2 : 0;
            var endToEnd = c.ScaleOut.LatencySeconds + hops * shape.HopLatencySeconds;
            var perGpu = c.ScaleOut.BytesPerSecond / f.Nic.GpusPerNic;
            dims.Add(("Switch", c.Nodes, perGpu, endToEnd / 2 * 1e9,
                $"nodes on a non-blocking {FabricSpec.Word(shape.Kind)} fabric ({perGpu / 1e9:0.##} GB/s per GPU each way"
                + (f.Nic.GpusPerNic > 1 ? $", a NIC shared by {f.Nic.GpusPerNic} GPUs" : "") + ")"));
        }
        if (dims.Count == 0)
        {
            whyNot = "one GPU has no network to export";
            return null;
        }

        var sb = new StringBuilder();
        sb.AppendLine($"# ASTRA-sim analytical network for '{c.Name}' ({c.WorldSize} NPUs), exported by Sim.");
        for (var i = 0; i < dims.Count; i++) sb.AppendLine($"# dimension {i + 1}: {dims[i].What}");
        sb.AppendLine($"# source: {c.Source}");
        sb.AppendLine($"topology: [ {string.Join(", ", dims.Select(d => d.Topology))} ]");
        sb.AppendLine($"npus_count: [ {string.Join(", ", dims.Select(d => d.Npus.ToString(inv)))} ]");
        sb.AppendLine($"bandwidth: [ {string.Join(", ", dims.Select(d => GiBPerSecond(d.BytesPerSecond).ToString("0.0#####", inv)))} ]  # GiB/s (2^30 B/s) per link and direction, as ASTRA-sim reads it");
        sb.AppendLine($"latency: [ {string.Join(", ", dims.Select(d => d.Ns.ToString("0.0##", inv)))} ]  # ns per link");
        return sb.ToString();
    }
}
