using System.Text.Json;
using System.Text.Json.Nodes;
using Sim.Predictions;
using Sim.Iterations;

namespace Sim.Report;

/// <summary>
/// The JSON form of a <see cref="Prediction"/>: stable key order and shortest round-trip doubles, so the
/// same inputs give byte-identical output. <see cref="Parse"/> reads it back.
/// </summary>
internal static class PredictionJson
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Write(Prediction p) => ToNode(p).ToJsonString(Indented);

    public static JsonObject ToNode(Prediction p)
    {
        var phases = new JsonObject();
        foreach (var ph in p.Phases) phases[ph.Name] = ph.Seconds;
        return new JsonObject
        {
            ["mode"] = p.Mode.Word(),
            ["topology"] = p.Topology,
            ["workload"] = p.Workload,
            ["plan"] = p.Plan,
            ["world_size"] = p.WorldSize,
            ["global_batch_size"] = p.GlobalBatchSize,
            ["iteration_seconds"] = p.IterationSeconds,
            ["samples_per_second"] = p.SamplesPerSecond,
            ["bottleneck_phase"] = p.BottleneckPhase,
            ["exposed_communication_seconds"] = p.ExposedCommunicationSeconds,
            ["hidden_communication_seconds"] = p.HiddenCommunicationSeconds,
            ["phases"] = phases,
            ["communication_phases"] = Array(p.Phases.Where(x => x.IsCommunication).Select(x => (JsonNode)x.Name)),
            ["memory_bytes_per_gpu"] = Array(p.MemoryBytesPerGpu.Select(v => (JsonNode)v)),
            ["memory_bytes_max"] = p.MemoryBytesMax,
            ["memory_bytes_mean"] = p.MemoryBytesMean,
            ["memory_capacity_bytes_per_gpu"] = p.MemoryCapacityBytesPerGpu,
            ["cost_parameters_source"] = p.CostSource,
            ["iteration_error_band"] = p.ErrorBand,
            ["stack"] = p.Stack,
            ["extrapolations"] = p.Extrapolations is { } ex ? new JsonArray(ex.Select(e => (JsonNode?)JsonValue.Create(e)).ToArray()) : null,
            ["out_of_model"] = p.OutOfModel is { } oom ? Strings(oom) : null,
            ["critical_path"] = Array(p.CriticalPath.Select(s => (JsonNode)new JsonObject
            {
                ["task"] = s.Task, ["phase"] = s.Phase, ["rank"] = s.Rank, ["seconds"] = s.Seconds,
            })),
            ["ranks"] = Array(p.Ranks.Select(r => (JsonNode)new JsonObject
            {
                ["rank"] = r.Rank, ["compute_seconds"] = r.ComputeSeconds, ["communication_seconds"] = r.CommunicationSeconds,
            })),
            ["conditions"] = Conditions(p),
        };
    }

    /// <summary>Under non-ideal conditions: what they were, the distribution of iteration times, the pacing rank, notes; else null.</summary>
    private static JsonObject? Conditions(Prediction p)
    {
        if (p.Distribution is not { } d) return null;
        return new JsonObject
        {
            ["described"] = Strings(p.Conditions ?? []),
            ["iterations"] = d.Seconds.Count,
            ["seed"] = d.Seed,
            ["iteration_seconds_p50"] = d.P50,
            ["iteration_seconds_p90"] = d.P90,
            ["iteration_seconds_p99"] = d.P99,
            ["iteration_seconds_mean"] = d.Mean,
            ["iteration_seconds_min"] = d.Min,
            ["iteration_seconds_max"] = d.Max,
            ["samples_per_second_p50"] = p.GlobalBatchSize / d.P50,
            ["pacing_rank"] = d.PacingRank,
            ["pacing_share"] = d.PacingShare,
            ["pacing_link"] = p.BusiestLink is { } l ? new JsonObject
            {
                ["from"] = l.From, ["to"] = l.To, ["tier"] = l.Tier, ["busy_seconds"] = l.BusySeconds,
            } : null,
            ["iteration_seconds"] = Array(d.Seconds.Select(v => (JsonNode)v)),
            ["notes"] = Strings(p.Notes ?? []),
        };
    }

    private static JsonArray Strings(IEnumerable<string> items) => new(items.Select(e => (JsonNode?)JsonValue.Create(e)).ToArray());

    private static JsonArray Array(IEnumerable<JsonNode> items) => new(items.ToArray());

    public static Prediction Parse(string json)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        var comm = o["communication_phases"]!.AsArray().Select(n => n!.GetValue<string>()).ToHashSet();
        var phases = o["phases"]!.AsObject().Select(kv => new PhaseTime(kv.Key, kv.Value!.GetValue<double>(), comm.Contains(kv.Key))).ToList();
        var path = o["critical_path"]!.AsArray().Select(n => n!.AsObject()).Select(s =>
        {
            var phase = s["phase"]!.GetValue<string>();
            return new PathSegment(s["task"]!.GetValue<int>(), phase, s["rank"]!.GetValue<int>(), s["seconds"]!.GetValue<double>(), comm.Contains(phase));
        }).ToList();
        var ranks = o["ranks"]!.AsArray().Select(n => n!.AsObject()).Select(r =>
            new RankTime(r["rank"]!.GetValue<int>(), r["compute_seconds"]!.GetValue<double>(), r["communication_seconds"]!.GetValue<double>())).ToList();
        return new Prediction(
            PredictionModes.Parse(o["mode"]!.GetValue<string>(), "mode"), o["topology"]!.GetValue<string>(), o["workload"]!.GetValue<string>(),
            o["plan"]!.GetValue<string>(), o["world_size"]!.GetValue<int>(), o["global_batch_size"]!.GetValue<long>(),
            o["iteration_seconds"]!.GetValue<double>(), phases,
            o["memory_bytes_per_gpu"]!.AsArray().Select(n => n!.GetValue<long>()).ToList(),
            o["memory_capacity_bytes_per_gpu"]!.GetValue<long>(), o["cost_parameters_source"]!.GetValue<string>(),
            o["hidden_communication_seconds"]!.GetValue<double>(), ranks, path, o["iteration_error_band"]?.GetValue<double>(),
            o["stack"]?.GetValue<string>(), o["extrapolations"]?.AsArray().Select(n => n!.GetValue<string>()).ToList())
        {
            OutOfModel = o["out_of_model"]?.AsArray().Select(n => n!.GetValue<string>()).ToList(),
        };
    }
}
