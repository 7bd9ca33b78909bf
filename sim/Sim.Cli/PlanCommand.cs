using System.CommandLine;
using System.Globalization;
using Sim.Accounting;
using Sim.Config;
using Sim.Cost;
using System.Text.Json.Nodes;
using Sim.Predictions;
using Sim.Report;
using Sim.Sharding;
using Sim.Topology;
using Sim.Hardware;
using Sim.Workload;
using Spectre.Console;
using Sim.Planning;

namespace Sim.Cli;

/// <summary>`sim plan TOPOLOGY WORKLOAD`: make a sharding plan, show per-GPU load, optionally write it.</summary>
internal static class PlanCommand
{
    public static Command Create(TextWriter stdout)
    {
        var topology = new Argument<string>("topology") { Description = "cluster description (YAML or JSON)" };
        var workload = new Argument<string>("workload") { Description = "model description (YAML or JSON)" };
        var planner = new Option<string>("--planner") { Description = "planner", DefaultValueFactory = _ => "greedy" };
        planner.AcceptOnlyFromAmong([.. Scenario.Planners]);
        var output = new Option<string?>("--out") { Description = "write the plan here (YAML), for `sim predict` and `harness run`" };
        var timeLimit = new Option<double>("--time-limit") { Description = "seconds the optimal planner may search", DefaultValueFactory = _ => 10 };
        var seed = new Option<int>("--seed") { Description = "seed of the optimal planner's search (recorded in the plan)", DefaultValueFactory = _ => 0 };
        var evaluations = new Option<int?>("--evaluations")
        {
            Description = "optimal planner: stop the local search after this many moves and give CP-SAT deterministic time, so the same seed gives the same plan on any machine (default: search for --time-limit of wall time, which can differ between runs)",
        };
        var profile = ModeOption.Profile();
        var json = JsonOutput.Option("the plan's per-GPU load and its predicted iteration");
        var cmd = new Command("plan", "Make a sharding plan (greedy, balanced, hierarchical or optimal) and show how it loads each GPU.")
        {
            topology, workload, planner, output, timeLimit, seed, evaluations, profile, json,
        };
        cmd.SetAction(r =>
        {
            var cluster = TopologyLoader.Load(r.GetValue(topology)!);
            var workloadPath = r.GetValue(workload)!;
            var model = WorkloadLoader.Load(workloadPath);
            var workloadName = YamlDocument.DisplayName(workloadPath);
            Scenario.CheckBatch(cluster, model, workloadName);
            if (r.GetValue(timeLimit) is var limit && (limit <= 0 || !double.IsFinite(limit)))
                throw new SimInputException("--time-limit", "", $"must be a positive number of seconds, found {limit}");
            var progress = new Progress<string>(line => Console.Error.WriteLine($"  {line}"));
            var predictor = ModeOption.Predictor(r.GetValue(profile), model.Stack);
            if (r.GetValue(evaluations) is { } ev && (ev < 1 || ev > 10_000_000)) throw new SimInputException("--evaluations", "", $"must be from 1 to 10,000,000, found {ev}");
            var ctx = new PlannerContext(cluster, model, predictor, workloadName, limit, r.GetValue(seed), progress) { Evaluations = r.GetValue(evaluations) };
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var result = Scenario.Planner(r.GetValue(planner)!).Plan(ctx);
            var planSeconds = clock.Elapsed.TotalSeconds;
            MemoryModel.EnsureFits(cluster, MemoryModel.PerRank(cluster, model, result.Plan), $"planner {result.Plan.Name}");
            var scenario = new Scenario(cluster, model, result.Plan);
            var prediction = predictor.Predict(scenario, PredictionMode.Analytical);
            if (r.GetValue(output) is { } path) AtomicFile.WriteAllText(path, PlanLoader.ToYaml(scenario.Plan));
            var loads = Loads(scenario, predictor.Cost);
            if (r.GetValue(json))
            {
                JsonOutput.Print(stdout, new JsonObject
                {
                    ["plan"] = result.Plan.Name, ["planner"] = r.GetValue(planner), ["summary"] = result.Summary,
                    ["written_to"] = r.GetValue(output),
                    ["gpus"] = JsonOutput.Array(loads, l => new JsonObject
                    {
                        ["rank"] = l.Rank, ["shards"] = l.Shards, ["embedding_bytes"] = l.EmbeddingBytes, ["memory_bytes"] = l.MemoryBytes,
                        ["lookup_seconds"] = l.LookupSeconds, ["all_to_all_forward_sent_bytes"] = l.SentBytes,
                    }),
                    ["imbalance"] = Imbalance(loads),
                    ["prediction"] = PredictionJson.ToNode(prediction),
                });
                return 0;
            }
            Render(loads, prediction, stdout);
            stdout.WriteLine($"planner {result.Plan.Name}: {result.Summary}; planned in {planSeconds.ToString("0.000", CultureInfo.InvariantCulture)} s");
            if (r.GetValue(output) is { } written) stdout.WriteLine($"plan written to {written}");
            return 0;
        });
        return cmd;
    }

    /// <summary>What the plan puts on one GPU.</summary>
    private sealed record GpuLoad(int Rank, long Shards, double EmbeddingBytes, double MemoryBytes, double LookupSeconds, double SentBytes);

    private static List<GpuLoad> Loads(Scenario s, CostParameters cost)
    {
        var c = s.Cluster;
        var work = EmbeddingWork.Compute(c, s.Workload, s.Plan);
        var memory = MemoryModel.PerRank(c, s.Workload, s.Plan);
        var sent = work.PooledElements.Scaled(s.Workload.Precision.AllToAllForward.Bytes()).PerRank(c);
        return Enumerable.Range(0, c.WorldSize).Select(r => new GpuLoad(r, work.Kernels[r], memory[r].EmbeddingBytes, memory[r].TotalBytes,
            ComputeCost.EmbeddingSeconds(c.Gpu, cost, work.ForwardBytes[r] + work.BackwardBytes[r], 2 * work.Kernels[r])
            + ComputeCost.UvmSeconds(c, cost, work.HostForwardBytes[r] + work.HostBackwardBytes[r])
            + ComputeCost.SsdReadSeconds(c, work.SsdReadBytes[r]) + ComputeCost.SsdWriteSeconds(c, work.SsdWriteBytes[r]), sent[r].Sent)).ToList();
    }

    /// <summary>Max over mean of the per-GPU lookup time (1 when nothing is looked up).</summary>
    private static double Imbalance(List<GpuLoad> loads)
    {
        var mean = loads.Average(l => l.LookupSeconds);
        return mean > 0 ? loads.Max(l => l.LookupSeconds) / mean : 1;
    }

    private static void Render(List<GpuLoad> loads, Prediction p, TextWriter stdout)
    {
        var inv = CultureInfo.InvariantCulture;
        var console = Terminal.For(stdout);
        var table = new Table().AddColumns("GPU", "shards", "embedding bytes", "memory", "lookup fwd+bwd", "all-to-all fwd sent");
        foreach (var col in table.Columns.Skip(1)) col.RightAligned();
        foreach (var l in loads)
            table.AddRow(l.Rank.ToString(inv), l.Shards.ToString(inv), Units.Bytes(l.EmbeddingBytes), Units.Bytes(l.MemoryBytes), Units.Seconds(l.LookupSeconds), Units.Bytes(l.SentBytes));
        console.Write(table);
        stdout.WriteLine($"imbalance (max/mean lookup): {Imbalance(loads).ToString("0.000", inv)}");
        stdout.WriteLine($"predicted iteration: {Units.Seconds(p.IterationSeconds)} ({p.SamplesPerSecond.ToString("N0", inv)} samples/s), bottleneck {p.BottleneckPhase}");
    }
}
