using System.Globalization;
using System.Text;
using Sim.Topology;

namespace Sim.Interop.Chakra;

/// <summary>
/// ASTRA-sim's system configuration (JSON read by Sys::initialize_sys) for an exported iteration: one collective
/// algorithm per network dimension (<see cref="AstraSimExport.Dimensions"/>): ring all-reduce in each dimension
/// (Sim's all-reduce is a ring in a node, hierarchical across nodes) and direct all-to-all (Sim's all-to-all is
/// pairwise). The roofline is off, so ASTRA-sim replays each compute node for its <c>duration_micros</c>.
/// <c>local-mem-bw</c> is the GPU's HBM bandwidth in decimal GB/s (Sys.cc multiplies it by 1e9, unlike the network
/// file's GiB/s). Chunking and the endpoint delay are ASTRA-sim's example values (examples/system/native_collectives).
/// </summary>
internal static class AstraSystemConfig
{
    public static string Json(Cluster c)
    {
        var dims = Math.Max(1, AstraSimExport.Dimensions(c));
        string Each(string algorithm) => "[" + string.Join(", ", Enumerable.Repeat($"\"{algorithm}\"", dims)) + "]";
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("{\n");
        sb.Append("  \"scheduling-policy\": \"LIFO\",\n");
        sb.Append("  \"endpoint-delay\": 10,\n");
        sb.Append("  \"active-chunks-per-dimension\": 2,\n");
        sb.Append("  \"preferred-dataset-splits\": 4,\n");
        sb.Append($"  \"all-reduce-implementation\": {Each("ring")},\n");
        sb.Append($"  \"all-gather-implementation\": {Each("ring")},\n");
        sb.Append($"  \"reduce-scatter-implementation\": {Each("ring")},\n");
        sb.Append($"  \"all-to-all-implementation\": {Each("direct")},\n");
        sb.Append("  \"collective-optimization\": \"localBWAware\",\n");
        sb.Append($"  \"local-mem-bw\": {(c.Gpu.HbmBytesPerSecond / 1e9).ToString("0.###", inv)},\n");
        sb.Append("  \"boost-mode\": 0,\n");
        sb.Append("  \"roofline-enabled\": 0\n");
        return sb.Append("}\n").ToString();
    }

    /// <summary>ASTRA-sim's remote-memory configuration: no memory expansion (Sim's UVM time is in the compute nodes).</summary>
    public const string RemoteMemoryJson = "{\n  \"memory-type\": \"NO_MEMORY_EXPANSION\"\n}\n";
}
