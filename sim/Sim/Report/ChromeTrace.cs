using System.Globalization;
using System.Text;
using System.Text.Json;
using Sim.Engine;
using Sim.Topology;
using Sim.Iterations;

namespace Sim.Report;

/// <summary>
/// Chrome/Perfetto trace (JSON "traceEvents") of a simulated iteration: one process per node, one thread per
/// rank and stream (compute, all-to-all, all-reduce), plus a "network" process with one thread per sending
/// rank holding each flow. Opens in ui.perfetto.dev or chrome://tracing. Byte-identical for identical inputs.
/// </summary>
internal static class ChromeTrace
{
    /// <summary>Flows beyond this many are left out (the trace says so) to keep files openable.</summary>
    public const int MaxFlows = 50_000;

    public static void Write(Stream output, Cluster c, Timeline t, IReadOnlyList<FlowRecord> flows)
    {
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = false });
        w.WriteStartObject();
        w.WriteString("displayTimeUnit", "ms");
        w.WriteStartArray("traceEvents");
        for (var node = 0; node < c.Nodes; node++) Meta(w, "process_name", node, 0, $"node {node}");
        for (var r = 0; r < c.WorldSize; r++)
            foreach (var s in Enum.GetValues<StreamKind>())
                Meta(w, "thread_name", c.NodeOf(r), Tid(r, s), $"rank {r} {Name(s)}");
        foreach (var task in t.Graph.Tasks)
        {
            if (task.Kind == TaskKind.Compute)
                Slice(w, task.Phase, "compute", c.NodeOf(task.Rank), Tid(task.Rank, task.Stream), t.Start[task.Id], t.Finish[task.Id], null);
            else
                for (var r = 0; r < c.WorldSize; r++)
                    Slice(w, task.Phase, "communication", c.NodeOf(r), Tid(r, task.Stream), t.Start[task.Id], t.FinishFor(task.Id, r), null);
        }
        var networkPid = c.Nodes;
        if (flows.Count > 0) Meta(w, "process_name", networkPid, 0, "network flows");
        foreach (var f in flows.Take(MaxFlows))
            Slice(w, $"{f.Src}->{f.Dst}", "flow", networkPid, f.Src, f.StartSeconds, f.EndSeconds, f.Bytes);
        w.WriteEndArray();
        w.WriteStartObject("otherData");
        w.WriteString("generator", "sim predict --mode event");
        w.WriteNumber("flows", flows.Count);
        w.WriteNumber("flows_written", Math.Min(flows.Count, MaxFlows));
        w.WriteEndObject();
        w.WriteEndObject();
    }

    public static string ToJson(Cluster c, Timeline t, IReadOnlyList<FlowRecord> flows)
    {
        using var ms = new MemoryStream();
        Write(ms, c, t, flows);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static int Tid(int rank, StreamKind s) => rank * 3 + (int)s;

    private static string Name(StreamKind s) => s switch
    {
        StreamKind.Compute => "compute",
        StreamKind.AllToAll => "all-to-all",
        _ => "all-reduce",
    };

    private static void Meta(Utf8JsonWriter w, string kind, int pid, int tid, string name)
    {
        w.WriteStartObject();
        w.WriteString("ph", "M");
        w.WriteString("name", kind);
        w.WriteNumber("pid", pid);
        w.WriteNumber("tid", tid);
        w.WriteStartObject("args");
        w.WriteString("name", name);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Slice(Utf8JsonWriter w, string name, string cat, int pid, int tid, double start, double end, double? bytes)
    {
        w.WriteStartObject();
        w.WriteString("ph", "X");
        w.WriteString("name", name);
        w.WriteString("cat", cat);
        w.WriteNumber("pid", pid);
        w.WriteNumber("tid", tid);
        w.WriteRawValueNumber("ts", start * 1e6);
        w.WriteRawValueNumber("dur", Math.Max(0, end - start) * 1e6);
        if (bytes is { } b)
        {
            w.WriteStartObject("args");
            w.WriteNumber("bytes", b);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    /// <summary>Microseconds with nanosecond resolution, formatted the same on every machine.</summary>
    private static void WriteRawValueNumber(this Utf8JsonWriter w, string name, double micros)
    {
        w.WritePropertyName(name);
        w.WriteRawValue(Math.Round(micros, 3).ToString("0.###", CultureInfo.InvariantCulture));
    }
}
