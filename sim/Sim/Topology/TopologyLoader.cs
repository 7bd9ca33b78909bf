using Sim.Config;
using Sim.Hardware;
using Sim.Topology.Fabric;

namespace Sim.Topology;

/// <summary>Reads a topology file (YAML or JSON). Every block of numbers must carry a `source:`.</summary>
public static class TopologyLoader
{
    public static Cluster Load(string path) => Read(YamlDocument.LoadFile(path));

    public static Cluster Parse(string text, string fileName) => Read(YamlDocument.Parse(text, fileName));

    private static Cluster Read(YamlMap root)
    {
        var name = root.RequireString("name");
        var source = root.RequireString("source");
        root.OptionalString("description");
        var nodes = root.RequireInt("nodes", 1, 1_000_000);
        var gpusPerNode = root.RequireInt("gpus_per_node", 1, 1024);
        if ((long)nodes * gpusPerNode > 1_000_000)
            throw root.Error("nodes", $"{nodes} nodes x {gpusPerNode} GPUs is more than the 1,000,000 GPUs Sim supports");

        var gpu = ReadGpu(root.RequireMap("gpu"));
        var intra = ReadLink(root.RequireMap("intra_node"), "intra_node");
        var scaleOut = ReadLink(root.RequireMap("scale_out"), "scale_out");
        var host = ReadHost(root.RequireMap("host"));
        // Optional: without it the cluster keeps the flat model (NVSwitch node, NIC per GPU, non-blocking fabric).
        var fabric = root.OptionalMap("fabric") is { } f ? FabricLoader.Read(f, nodes, gpusPerNode) : null;
        root.EnsureNoUnknownKeys();
        return new Cluster(name, source, nodes, gpusPerNode, gpu, intra, scaleOut, host) { Fabric = fabric };
    }

    private static GpuSpec ReadGpu(YamlMap m)
    {
        var model = m.RequireString("model");
        var peaks = m.RequireMap("peak_flops_per_second");
        var dict = new Dictionary<DType, double>();
        foreach (var (key, node) in peaks.Entries())
        {
            var field = peaks.FieldPath(key);
            if (!DTypes.Words.TryGetValue(key, out var dt))
                throw peaks.Error(node, field, $"unknown dtype; expected one of: {string.Join(", ", DTypes.Words.Keys)}");
            dict[dt] = peaks.RequirePositive(key, 1e18);
        }
        if (!dict.ContainsKey(DType.Fp32))
            throw peaks.Error(peaks.Node, peaks.FieldPath("fp32"), "required field is missing (every GPU needs an fp32 peak)");
        var hbm = m.RequireLong("hbm_bytes", 1, 1L << 50);
        var hbmBw = m.RequirePositive("hbm_bytes_per_second", 1e15);
        var src = m.RequireString("source");
        m.EnsureNoUnknownKeys();
        return new GpuSpec(model, dict, hbm, hbmBw, new Provenance(src));
    }

    /// <summary>A link block: bytes per second each way, latency and source (also used by the fabric loader).</summary>
    internal static LinkSpec ReadLink(YamlMap m, string tier)
    {
        var bw = m.RequirePositive("bytes_per_second", 1e15);
        var lat = m.RequireDouble("latency_seconds", 0, max: 1);
        var src = m.RequireString("source");
        m.EnsureNoUnknownKeys();
        return new LinkSpec(tier, bw, lat, new Provenance(src));
    }

    private static HostSpec ReadHost(YamlMap m)
    {
        var ddr = m.RequireLong("ddr_bytes", 1, 1L << 55);
        var bw = m.RequirePositive("ddr_bytes_per_second", 1e15);
        var src = m.RequireString("source");
        // Optional: without it the cluster has no SSD tier and planners never choose one.
        var ssd = m.OptionalMap("ssd") is { } s ? ReadSsd(s) : null;
        m.EnsureNoUnknownKeys();
        return new HostSpec(ddr, bw, new Provenance(src)) { Ssd = ssd };
    }

    private static SsdSpec ReadSsd(YamlMap m)
    {
        var capacity = m.RequireLong("capacity_bytes", 1, 1L << 60);
        var read = m.RequirePositive("read_bytes_per_second", 1e15);
        var write = m.RequirePositive("write_bytes_per_second", 1e15);
        var minIo = m.RequireLong("min_io_bytes", 1, 1L << 30);
        var src = m.RequireString("source");
        m.EnsureNoUnknownKeys();
        return new SsdSpec(capacity, read, write, minIo, new Provenance(src));
    }
}
