using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Sim.Report;
using Sim.Config;
using Sim.Sharding;
using Sim.Sweep;
using Sim.Topology;
using Sim.Workload;
using Spectre.Console;
using Sim.Predictions;

namespace Sim.Cli;

/// <summary>
/// `sim capacity TOPOLOGY WORKLOAD --target-samples-per-second X` (or `--train-samples N --within-hours H`):
/// the smallest cluster of the topology's family (same node, more or fewer nodes) that meets the target.
/// </summary>
internal static class CapacityCommand
{
    /// <summary>Exit code when no size up to the bound meets the target (an answer, not an error).</summary>
    public const int NotMet = 1;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Create(TextWriter stdout)
    {
        var topology = new Argument<string>("topology") { Description = "a cluster of the family: its node (GPUs, links, memory) is kept, the node count varies" };
        var workload = new Argument<string>("workload") { Description = "model description (YAML or JSON)" };
        var target = new Option<double?>("--target-samples-per-second") { Description = "training throughput to reach" };
        var samples = new Option<double?>("--train-samples") { Description = "samples to train (with --within-hours)" };
        var hours = new Option<double?>("--within-hours") { Description = "time budget for --train-samples" };
        var maxNodes = new Option<int>("--max-nodes") { Description = "largest node count tried", DefaultValueFactory = _ => 1024 };
        var every = new Option<bool>("--every-size") { Description = "try every node count 1, 2, 3, ... (default: powers of two)" };
        var planner = new Option<string>("--planner") { Description = "planner", DefaultValueFactory = _ => "greedy" };
        planner.AcceptOnlyFromAmong([.. Scenario.Planners]);
        var mode = ModeOption.Create("analytical or event");
        var profile = ModeOption.Profile();
        var overlap = new Option<bool>("--overlap") { Description = "bucketed all-reduce and pipelined embeddings (default: sequential)" };
        var perGpu = new Option<long?>("--batch-per-gpu") { Description = "grow the global batch with the cluster: this many samples per GPU (default: keep the workload's global batch)" };
        var planOut = new Option<string?>("--plan-out") { Description = "write the chosen size's plan here (YAML)" };
        var json = JsonOutput.Option("every size tried and the chosen one");
        var cmd = new Command("capacity", "Find the smallest cluster of a topology's family that meets a throughput or time-to-train target.")
        {
            topology, workload, target, samples, hours, maxNodes, every, planner, mode, overlap, perGpu, planOut, profile, json,
        };
        cmd.SetAction(r =>
        {
            var goal = Target(r.GetValue(target), r.GetValue(samples), r.GetValue(hours), out var goalText);
            var topologyPath = r.GetValue(topology)!;
            var cluster = TopologyLoader.Load(topologyPath);
            var workloadPath = r.GetValue(workload)!;
            var model = WorkloadLoader.Load(workloadPath);
            var predictor = ModeOption.Predictor(r.GetValue(profile), model.Stack);
            if (r.GetValue(perGpu) is { } b && (b < 1 || b > 1L << 30)) throw new SimInputException("--batch-per-gpu", "", $"must be from 1 to 2^30, found {b}");
            var query = new CapacityQuery(goal, r.GetValue(maxNodes), r.GetValue(every) ? CapacitySizes.Every : CapacitySizes.PowersOfTwo,
                r.GetValue(planner)!, ModeOption.Parse(r.GetValue(mode)), r.GetValue(overlap), r.GetValue(perGpu));
            var result = CapacitySearch.Run(cluster, model, Path.GetFileName(workloadPath), query, Path.GetFileName(topologyPath), predictor);
            var path = result.Chosen is not null ? r.GetValue(planOut) : null;
            if (path is not null) AtomicFile.WriteAllText(path, PlanLoader.ToYaml(result.Scenario!.Plan));
            if (r.GetValue(json)) JsonOutput.Print(stdout, Json(cluster, model, result, path));
            else
            {
                Render(cluster, model, goalText, result, stdout);
                if (path is not null) stdout.WriteLine($"plan written to {path}");
            }
            return result.Chosen is null ? NotMet : 0;
        });
        return cmd;
    }

    private static double Target(double? target, double? samples, double? hours, out string text)
    {
        if (target is { } t)
        {
            if (samples is not null || hours is not null)
                throw new SimInputException("--target-samples-per-second", "", "give either a throughput target or --train-samples with --within-hours, not both");
            if (!(t > 0) || !double.IsFinite(t)) throw new SimInputException("--target-samples-per-second", "", $"must be a positive number, found {t}");
            text = $"{t.ToString("N0", Inv)} samples/s";
            return t;
        }
        if (samples is null && hours is null)
            throw new SimInputException("--target-samples-per-second", "", "required: a throughput target, or --train-samples N --within-hours H");
        if (samples is not { } n || !(n > 0) || !double.IsFinite(n)) throw new SimInputException("--train-samples", "", "required with --within-hours: a positive number of samples");
        if (hours is not { } h || !(h > 0) || !double.IsFinite(h)) throw new SimInputException("--within-hours", "", "required with --train-samples: a positive number of hours");
        var rate = n / (h * 3600);
        text = $"{n.ToString("N0", Inv)} samples within {h.ToString("0.##", Inv)} h = {rate.ToString("N0", Inv)} samples/s";
        return rate;
    }

    private static void Render(Cluster family, DlrmWorkload w, string goalText, CapacityResult result, TextWriter stdout)
    {
        var q = result.Query;
        var console = Terminal.For(stdout);
        console.MarkupLine($"capacity for [bold]{Markup.Escape(w.Name)}[/] on the [bold]{Markup.Escape(family.Name)}[/] family " +
            $"({family.GpusPerNode} x {Markup.Escape(family.Gpu.Model)} per node): target {Markup.Escape(goalText)}; " +
            $"{(q.Sizes == CapacitySizes.Every ? "every node count" : "powers of two")} up to {q.MaxNodes} nodes, planner {Markup.Escape(q.Planner)}, {q.Mode.Word()} model" +
            (q.BatchPerGpu is { } b ? $", {b} samples per GPU" : $", global batch {w.GlobalBatchSize}"));
        var table = new Table().AddColumns("nodes", "GPUs", "iteration", "samples/s", "vs target", "result");
        foreach (var c in table.Columns.Take(5)) c.RightAligned();
        var skipped = 0;
        foreach (var t in result.Trials)
        {
            var row = t.Row;
            // With every size, batch sizes that do not divide are many and uninteresting: count them instead.
            if (q.Sizes == CapacitySizes.Every && !row.IsOk && row.Error?.Contains("does not divide", StringComparison.Ordinal) == true) { skipped++; continue; }
            table.AddRow(
                t.Nodes.ToString(Inv), t.Gpus.ToString(Inv),
                row.IsOk ? Units.Seconds(row.IterationSeconds!.Value) : "-",
                row.IsOk ? row.SamplesPerSecond!.Value.ToString("N0", Inv) : "-",
                row.IsOk ? (row.SamplesPerSecond!.Value / q.TargetSamplesPerSecond).ToString("P0", Inv) : "-",
                t.Meets ? "[green]meets the target[/]" : row.IsOk ? "too slow" : Markup.Escape($"{row.Status}: {Shorten(row.Error ?? "")}"));
        }
        console.Write(table);
        if (skipped > 0) stdout.WriteLine($"({skipped} sizes not shown: the global batch does not divide over their GPUs)");
        if (result.Chosen is not { } chosen)
        {
            var best = result.Trials.Where(t => t.Row.IsOk).OrderByDescending(t => t.Row.SamplesPerSecond).FirstOrDefault();
            stdout.WriteLine($"no size up to {q.MaxNodes} nodes ({q.MaxNodes * family.GpusPerNode} GPUs) meets {goalText}" +
                (best is null ? "; no size was even feasible." : $"; the fastest was {best.Nodes} nodes ({best.Gpus} GPUs) at {best.Row.SamplesPerSecond!.Value.ToString("N0", Inv)} samples/s " +
                $"({(best.Row.SamplesPerSecond!.Value / q.TargetSamplesPerSecond).ToString("P0", Inv)} of the target).") +
                (best is not null && best.Nodes < result.Trials.Where(t => t.Row.IsOk).Max(t => t.Nodes)
                    ? $" Throughput peaks at {best.Nodes} nodes, so more nodes will not help; try --overlap, --batch-per-gpu, or faster links."
                    : " Try a larger --max-nodes, --overlap, --batch-per-gpu, or a faster node."));
            return;
        }
        var s = result.Scenario!;
        var p = result.Prediction!;
        stdout.WriteLine($"chosen: {chosen.Nodes} nodes x {family.GpusPerNode} GPUs = {chosen.Gpus} GPUs: {p.SamplesPerSecond.ToString("N0", Inv)} samples/s " +
            $"({Units.Seconds(p.IterationSeconds)} per iteration of {s.Workload.GlobalBatchSize.ToString("N0", Inv)} samples), " +
            $"{(p.SamplesPerSecond / q.TargetSamplesPerSecond).ToString("P0", Inv)} of the target");
        var schemes = s.Plan.Tables.GroupBy(t => t.Scheme).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key}");
        stdout.WriteLine($"plan ({s.Plan.Name}): {s.Plan.Tables.Count} tables: {string.Join(", ", schemes)}; schedule {(s.Plan.EffectiveSchedule.IsSequential ? "sequential" : "overlapped")}");
        stdout.WriteLine($"memory per GPU: max {Units.Bytes(p.MemoryBytesMax)} of {Units.Bytes(p.MemoryCapacityBytesPerGpu)}; bottleneck phase {p.BottleneckPhase}; " +
            $"exposed communication {Units.Seconds(p.ExposedCommunicationSeconds)} ({(p.ExposedCommunicationSeconds / p.IterationSeconds).ToString("P0", Inv)})");
        var phases = p.Phases.Where(x => x.Seconds > 0).Select(x => $"{x.Name} {Units.Seconds(x.Seconds)}");
        stdout.WriteLine($"breakdown: {string.Join(", ", phases)}");
    }

    private static JsonObject Json(Cluster family, DlrmWorkload w, CapacityResult result, string? planPath)
    {
        var q = result.Query;
        return new JsonObject
        {
            ["family"] = family.Name, ["workload"] = w.Name, ["target_samples_per_second"] = q.TargetSamplesPerSecond,
            ["planner"] = q.Planner, ["mode"] = q.Mode.Word(), ["max_nodes"] = q.MaxNodes, ["batch_per_gpu"] = q.BatchPerGpu,
            ["trials"] = JsonOutput.Array(result.Trials, t => new JsonObject
            {
                ["nodes"] = t.Nodes, ["gpus"] = t.Gpus, ["status"] = t.Row.Status, ["iteration_seconds"] = t.Row.IterationSeconds,
                ["samples_per_second"] = t.Row.SamplesPerSecond, ["meets_target"] = t.Meets, ["error"] = t.Row.Error,
            }),
            ["chosen_nodes"] = result.Chosen?.Nodes, ["chosen_gpus"] = result.Chosen?.Gpus, ["plan_written_to"] = planPath,
            ["prediction"] = result.Prediction is { } p ? PredictionJson.ToNode(p) : null,
        };
    }

    private static string Shorten(string s) => s.Length <= 110 ? s : s[..107] + "...";
}
