using System.Text.Json;
using System.Text.Json.Nodes;
using Sim.Collectives;
using Sim.Nccl;

namespace Sim.Report;

/// <summary>`sim collective --json`: one object with the setting and one row per size (SI units: bytes, seconds, bytes per second).</summary>
internal static class CollectiveJson
{
    public static string Write(string topology, IReadOnlyList<CollectiveEstimate> rows, string costSource, string parameterSource)
    {
        var first = rows[0];
        var o = new JsonObject
        {
            ["topology"] = topology,
            ["op"] = first.Op.Word(),
            ["ranks"] = first.Ranks,
            ["dtype"] = first.DType,
            ["cost_parameters"] = costSource,
            ["collective_parameters"] = parameterSource,
            ["rows"] = new JsonArray(rows.Select(r => (JsonNode)new JsonObject
            {
                ["bytes"] = r.Bytes,
                ["wire_bytes"] = r.WireBytes,
                ["seconds"] = r.Seconds,
                ["codec_seconds"] = r.CodecSeconds,
                ["algbw_bytes_per_second"] = r.AlgBytesPerSecond,
                ["busbw_bytes_per_second"] = r.BusBytesPerSecond,
                ["algorithm"] = r.Algorithm.Word(),
                ["protocol"] = r.Protocol,
                ["bytes_per_tier"] = new JsonObject(r.BytesPerTier.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            }).ToArray()),
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
