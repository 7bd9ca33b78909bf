using System.CommandLine;
using System.Globalization;
using Sim.Config;
using Sim.Cost;
using Sim.Predictions;
using Sim.Sharding;
using Sim.Sharding.Planners;
using Sim.Topology;
using Sim.Workload;
using Spectre.Console;

namespace Sim.Cli;

/// <summary>`sim plan TOPOLOGY WORKLOAD`: make a sharding plan, show per-GPU load, optionally write it.</summary>
public static class PlanCommand
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
        var profile = ModeOption.Profile();
        var cmd = new Command("plan", "Make a sharding plan (greedy, balanced, hierarchical or optimal) and show how it loads each GPU.")
        {
            topology, workload, planner, output, timeLimit, seed, profile,
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
            var ctx = new PlannerContext(cluster, model, predictor, workloadName, limit, r.GetValue(seed), progress);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var result = Scenario.Planner(r.GetValue(planner)!).Plan(ctx);
            var planSeconds = clock.Elapsed.TotalSeconds;
            MemoryModel.EnsureFits(cluster, MemoryModel.PerRank(cluster, model, result.Plan), $"planner {result.Plan.Name}");
            var scenario = new Scenario(cluster, model, result.Plan);
            var prediction = predictor.Predict(scenario, PredictionMode.Analytical);
            Render(scenario, prediction, predictor.Cost, stdout);
            stdout.WriteLine($"planner {result.Plan.Name}: {result.Summary}; planned in {planSeconds.ToString("0.000", CultureInfo.InvariantCulture)} s");
            if (r.GetValue(output) is { } path)
            {
                AtomicFile.WriteAllText(path, PlanLoader.ToYaml(scenario.Plan));
                stdout.WriteLine($"plan written to {path}");
            }
            return 0;
        });
        return cmd;
    }

    private static void Render(Scenario s, Prediction p, CostParameters cost, TextWriter stdout)
    {
        var inv = CultureInfo.InvariantCulture;
        var c = s.Cluster;
        var work = EmbeddingWork.Compute(c, s.Workload, s.Plan);
        var memory = MemoryModel.PerRank(c, s.Workload, s.Plan);
        var lookup = Enumerable.Range(0, c.WorldSize)
            .Select(r => ComputeCost.EmbeddingSeconds(c.Gpu, cost, work.ForwardBytes[r] + work.BackwardBytes[r], 2 * work.Kernels[r])
                       + ComputeCost.UvmSeconds(c, cost, work.HostForwardBytes[r] + work.HostBackwardBytes[r])).ToArray();
        var sent = work.PooledElements.Scaled(s.Workload.Precision.AllToAllForward.Bytes()).PerRank(c);
        var console = Terminal.For(stdout);
        var table = new Table().AddColumns("GPU", "shards", "embedding bytes", "memory", "lookup fwd+bwd", "all-to-all fwd sent");
        foreach (var col in table.Columns.Skip(1)) col.RightAligned();
        for (var r = 0; r < c.WorldSize; r++)
            table.AddRow(r.ToString(inv), work.Kernels[r].ToString(inv), Units.Bytes(memory[r].EmbeddingBytes), Units.Bytes(memory[r].TotalBytes),
                Units.Seconds(lookup[r]), Units.Bytes(sent[r].Sent));
        console.Write(table);
        var mean = lookup.Average();
        stdout.WriteLine($"imbalance (max/mean lookup): {(mean > 0 ? lookup.Max() / mean : 1).ToString("0.000", inv)}");
        stdout.WriteLine($"predicted iteration: {Units.Seconds(p.IterationSeconds)} ({p.SamplesPerSecond.ToString("N0", inv)} samples/s), bottleneck {p.BottleneckPhase}");
    }
}
