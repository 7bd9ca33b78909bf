using System.CommandLine;
using System.Globalization;
using Sim.Config;
using Sim.Cost;
using Sim.Engine;
using Sim.Sharding;
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
        var cmd = new Command("plan", "Make a sharding plan and show how it loads each GPU.") { topology, workload, planner, output };
        cmd.SetAction(r =>
        {
            var scenario = Scenario.Load(r.GetValue(topology)!, r.GetValue(workload)!, null, r.GetValue(planner));
            var prediction = AnalyticalPredictor.Predict(scenario, CostParameters.Default);
            Render(scenario, prediction, stdout);
            if (r.GetValue(output) is { } path)
            {
                AtomicFile.WriteAllText(path, PlanLoader.ToYaml(scenario.Plan));
                stdout.WriteLine($"plan written to {path}");
            }
            return 0;
        });
        return cmd;
    }

    private static void Render(Scenario s, Prediction p, TextWriter stdout)
    {
        var inv = CultureInfo.InvariantCulture;
        var c = s.Cluster;
        var work = EmbeddingWork.Compute(c, s.Workload, s.Plan);
        var memory = MemoryModel.PerRank(c, s.Workload, s.Plan);
        var lookup = Enumerable.Range(0, c.WorldSize)
            .Select(r => ComputeCost.EmbeddingSeconds(c.Gpu, CostParameters.Default, work.ForwardBytes[r] + work.BackwardBytes[r], 2 * work.Kernels[r])).ToArray();
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
