using System.CommandLine;
using System.Text.Json.Nodes;
using System.Globalization;
using Sim.Config;
using Sim.Topology;
using Spectre.Console;

namespace Sim.Cli;

/// <summary>`sim topology describe FILE [--plot out.png|svg]` and `sim topology export-astra FILE [--out network.yml]`.</summary>
internal static class TopologyCommand
{
    public static Command Create(TextWriter stdout)
    {
        var cmd = new Command("topology", "Inspect a cluster description: its graph, tiers, bisection; export it for ASTRA-sim.");
        cmd.Subcommands.Add(Describe(stdout));
        cmd.Subcommands.Add(ExportAstra(stdout));
        return cmd;
    }

    private static Command Describe(TextWriter stdout)
    {
        var file = new Argument<string>("topology") { Description = "cluster description (YAML or JSON), e.g. topologies/dgx-h100-16node.yaml" };
        var plot = new Option<string?>("--plot") { Description = "draw the graph to this file (.png or .svg)" };
        var degrade = new Option<string?>("--degrade") { Description = "degraded-hardware overlay (YAML `degrade:` entries): describe the cluster with it (bisection, paths)" };
        var json = JsonOutput.Option("the description");
        var cmd = new Command("describe", "GPUs, nodes, link tiers, per-GPU injection bandwidth per tier, bisection bandwidth, diameter and sources.") { file, plot, json, degrade };
        cmd.SetAction(r =>
        {
            var path = r.GetValue(file)!;
            var plotPath = r.GetValue(plot);
            if (plotPath is not null) PlotFiles.CheckExtension(plotPath, "--plot");
            var cluster = TopologyLoader.Load(path);
            if (r.GetValue(degrade) is { } overlay) cluster = cluster with { Overlay = Conditions.ConditionsLoader.LoadDegrade(overlay) };
            var graph = cluster.BuildGraph();
            var summary = TopologySummary.Describe(graph);
            if (r.GetValue(json)) JsonOutput.Print(stdout, Json(summary));
            else
            {
                Render(summary, stdout);
                if (cluster.Overlay is { } o) stdout.WriteLine($"degraded:   {o.Describe()}");
            }
            if (plotPath is not null)
            {
                TopologyPlot.Save(GraphLayout.Of(graph), plotPath);
                if (!r.GetValue(json)) stdout.WriteLine($"graph drawn to {plotPath}");
            }
            return 0;
        });
        return cmd;
    }

    private static Command ExportAstra(TextWriter stdout)
    {
        var file = new Argument<string>("topology") { Description = "cluster description (YAML or JSON)" };
        var output = new Option<string?>("--out") { Description = "write the ASTRA-sim network file here (default: print it)" };
        var cmd = new Command("export-astra", "Write the cluster as an ASTRA-sim analytical network YAML (where its shape allows).") { file, output };
        cmd.SetAction(r =>
        {
            var path = r.GetValue(file)!;
            var cluster = TopologyLoader.Load(path);
            var yaml = AstraSimExport.TryWrite(cluster, out var whyNot)
                ?? throw new SimInputException(YamlDocument.DisplayName(path), "fabric", $"cannot export to ASTRA-sim: {whyNot}");
            if (r.GetValue(output) is { } outPath)
            {
                AtomicFile.WriteAllText(outPath, yaml);
                stdout.WriteLine($"ASTRA-sim network written to {outPath}");
            }
            else stdout.Write(yaml);
            return 0;
        });
        return cmd;
    }

    private static JsonObject Json(TopologySummary s) => new()
    {
        ["name"] = s.Name, ["gpus"] = s.Gpus, ["nodes"] = s.Nodes, ["pods"] = s.Pods, ["gpu_model"] = s.GpuModel, ["node_kind"] = s.NodeKind,
        ["gpus_per_nic"] = s.GpusPerNic, ["scale_out_kind"] = s.ScaleOutKind,
        ["vertices"] = JsonOutput.Array(s.Vertices, v => new JsonObject { ["kind"] = v.Kind.ToString(), ["count"] = v.Count }),
        ["one_way_links"] = s.OneWayLinks,
        ["tiers"] = JsonOutput.Array(s.Tiers, t => new JsonObject
        {
            ["tier"] = t.Tier, ["description"] = t.Description, ["links"] = t.Links, ["min_bytes_per_second"] = t.MinBytesPerSecond,
            ["max_bytes_per_second"] = t.MaxBytesPerSecond, ["latency_seconds"] = t.LatencySeconds,
            ["injection_bytes_per_second_per_gpu"] = double.IsNaN(t.InjectionBytesPerSecondPerGpu) ? null : t.InjectionBytesPerSecondPerGpu, ["source"] = t.Source,
        }),
        ["bisection_bytes_per_second"] = s.BisectionBytesPerSecond, ["diameter_hops"] = s.DiameterHops, ["max_equal_cost_paths"] = s.MaxEqualCostPaths,
        ["sources"] = JsonOutput.Array(s.Sources, x => new JsonObject { ["what"] = x.What, ["source"] = x.Source }),
    };

    private static void Render(TopologySummary s, TextWriter stdout)
    {
        var inv = CultureInfo.InvariantCulture;
        var console = Terminal.For(stdout);
        var shape = s.ScaleOut;
        console.MarkupLine($"[bold]{Markup.Escape(s.Name)}[/]: {s.Gpus} GPUs ({Markup.Escape(s.GpuModel)}) in {s.Nodes} node{(s.Nodes == 1 ? "" : "s")} of {s.Gpus / s.Nodes}, {s.Pods} pod{(s.Pods == 1 ? "" : "s")}");
        stdout.WriteLine($"node:       {s.NodeKind}, " + (s.GpusPerNic == 1 ? "a NIC per GPU" : $"a NIC per {s.GpusPerNic} GPUs"));
        var scaleOut = shape.Kind == Topology.Fabric.ScaleOutKind.NonBlocking
            ? "non_blocking (one ideal switch)"
            : $"{s.ScaleOutKind}, {shape.LeavesPerPod} leaves and {shape.SpinesPerPod} spines per pod"
              + (shape.HasSuperSpines ? $", {shape.SuperSpines} super-spines" : "")
              + $", {shape.LeafDownPorts} NIC ports per leaf";
        stdout.WriteLine($"scale-out:  {scaleOut}");
        stdout.WriteLine($"graph:      {string.Join(", ", s.Vertices.Select(v => $"{v.Count} {v.Kind.Word()}"))}; {s.OneWayLinks} one-way links");

        var table = new Table().AddColumns("tier", "what", "one-way links", "GB/s per link", "latency per link", "injection GB/s per GPU");
        foreach (var i in new[] { 2, 3, 4, 5 }) table.Columns[i].RightAligned();
        foreach (var t in s.Tiers)
        {
            var bw = t.MinBytesPerSecond == t.MaxBytesPerSecond ? Gb(t.MinBytesPerSecond) : $"{Gb(t.MinBytesPerSecond)}-{Gb(t.MaxBytesPerSecond)}";
            table.AddRow(t.Tier, Markup.Escape(t.Description), t.Links.ToString(inv), bw, Units.Seconds(t.LatencySeconds),
                double.IsNaN(t.InjectionBytesPerSecondPerGpu) ? "-" : Gb(t.InjectionBytesPerSecondPerGpu));
        }
        console.Write(table);
        stdout.WriteLine($"bisection:  {Gb(s.BisectionBytesPerSecond)} GB/s one way, first half of the ranks to the second ({Gb(s.BisectionBytesPerSecond / Math.Max(1, s.Gpus / 2))} GB/s per GPU)");
        stdout.WriteLine($"diameter:   {s.DiameterHops} hops between GPUs; up to {s.MaxEqualCostPaths.ToString("0", inv)} equal-cost paths between two GPUs");
        stdout.WriteLine("sources:");
        foreach (var (what, source) in s.Sources) stdout.WriteLine($"  {what}: {source}");
        // Tiers whose numbers are derived or defaulted rather than read from a block above.
        foreach (var t in s.Tiers.Where(t => s.Sources.All(x => x.Source != t.Source)))
            stdout.WriteLine($"  tier {t.Tier}: {t.Source}");
    }

    private static string Gb(double bytesPerSecond) => (bytesPerSecond / 1e9).ToString(bytesPerSecond >= 1e11 ? "0" : "0.##", CultureInfo.InvariantCulture);
}
