using System.CommandLine;
using System.Text.Json.Nodes;
using System.Diagnostics;
using System.Globalization;
using Sim.Config;
using Sim.Engine;
using Sim.Sharding;
using Sim.Sweep;
using Sim.Topology;
using Sim.Workload;
using Sim.Predictions;
using Sim.Iterations;

namespace Sim.Cli;

/// <summary>
/// `sim scale-bench`: the at-scale reliability benchmark. A topology resized in memory (default: ZionEX to 2,048
/// nodes x 8 = 16,384 GPUs) and a generated model (default: 100,000 tables, 12 T parameters) go through every stage
/// of a prediction, each timed: generate, plan, memory check, iteration DAG, analytical and event prediction. It
/// reports wall time per stage, peak memory, and whether the goal (under 60 s and 8 GiB) was met.
/// </summary>
internal static class ScaleBenchCommand
{
    public const double GoalSeconds = 60;
    public const long GoalBytes = 8L << 30;

    public static Command Create(TextWriter stdout)
    {
        var topology = new Option<string>("--topology") { Description = "node shape to resize", DefaultValueFactory = _ => "topologies/zionex-16node.yaml" };
        var nodes = new Option<int>("--nodes") { Description = "node count", DefaultValueFactory = _ => 2048 };
        var tables = new Option<int>("--tables") { Description = "generated tables", DefaultValueFactory = _ => 100_000 };
        var total = new Option<double>("--total-params") { Description = "embedding parameters in all", DefaultValueFactory = _ => 1e12 };
        var dim = new Option<int>("--dim") { Description = "embedding dim of every table (small keeps the DCN interaction over 100,000 tables in HBM)", DefaultValueFactory = _ => 8 };
        var perGpu = new Option<long>("--batch-per-gpu") { Description = "samples per GPU per iteration", DefaultValueFactory = _ => 64 };
        var seed = new Option<long>("--seed") { Description = "generator seed", DefaultValueFactory = _ => 1 };
        var planner = new Option<string>("--planner") { Description = "planner that places the tables", DefaultValueFactory = _ => "greedy" };
        planner.AcceptOnlyFromAmong([.. Scenario.Planners]);
        var hbm = new Option<double?>("--hbm-bytes") { Description = "HBM per GPU (default: the topology's)" };
        var fabric = new Option<bool>("--fabric") { Description = "keep the topology's fabric section (the event engine then routes flows on the full cluster graph: much slower)" };
        var skipEvent = new Option<bool>("--analytical-only") { Description = "skip the event engine" };
        var groups = new Option<int>("--node-groups") { Description = "above 256 GPUs the event engine coalesces traffic into at most about this many GPU classes and node groups (more: slower, finer)", DefaultValueFactory = _ => EventEngine.DefaultMaxNodeGroups };
        var json = JsonOutput.Option("the stage times, sizes and peak memory");
        var cmd = new Command("scale-bench", "Time every stage of a prediction at scale (default 16,384 GPUs, 100,000 tables) and report peak memory.")
        {
            topology, nodes, tables, total, dim, perGpu, seed, planner, hbm, fabric, skipEvent, groups, json,
        };
        cmd.SetAction(r =>
        {
            var inv = CultureInfo.InvariantCulture;
            var all = Stopwatch.StartNew();
            var stages = new List<(string Stage, double Seconds)>();
            var clock = Stopwatch.StartNew();
            T Time<T>(string stage, Func<T> f)
            {
                clock.Restart();
                var v = f();
                stages.Add((stage, clock.Elapsed.TotalSeconds));
                return v;
            }

            var topologyPath = r.GetValue(topology)!;
            var cluster = Time("topology: load and resize", () =>
            {
                var c = TopologyLoader.Load(topologyPath);
                var n = r.GetValue(nodes);
                if (n < 1) throw new SimInputException("--nodes", "", $"must be at least 1, found {n}");
                c = r.GetValue(fabric) ? ClusterFamily.Resize(c, n, c.GpusPerNode, YamlDocument.DisplayName(topologyPath)) : c with { Nodes = n, Fabric = null };
                if ((long)c.Nodes * c.GpusPerNode > 1_000_000) throw new SimInputException("--nodes", "", "more than the 1,000,000 GPUs Sim supports");
                if (r.GetValue(hbm) is { } h)
                {
                    if (!(h >= 1 && h <= 1L << 50)) throw new SimInputException("--hbm-bytes", "", $"must be from 1 to 2^50, found {h}");
                    c = c with { Gpu = c.Gpu with { HbmBytes = (long)h } };
                }
                return c;
            });
            var batch = r.GetValue(perGpu);
            if (batch < 1 || batch > 1L << 30) throw new SimInputException("--batch-per-gpu", "", $"must be from 1 to 2^30, found {batch}");
            var options = new GeneratorOptions(r.GetValue(tables), r.GetValue(total), r.GetValue(seed))
            {
                Dims = [r.GetValue(dim)],
                BatchSize = batch * cluster.WorldSize,
            };
            var workload = Time("workload: generate", () => WorkloadGenerator.Generate(options));
            if (!r.GetValue(json)) stdout.WriteLine($"scale benchmark: {workload.Tables.Count.ToString("N0", inv)} tables ({Si(workload.EmbeddingParameters)} embedding parameters, dim {options.Dims[0]}, " +
                $"{Si(workload.DenseParameters)} dense) on {cluster.Name} resized to {cluster.Nodes.ToString("N0", inv)} nodes x {cluster.GpusPerNode} = " +
                $"{cluster.WorldSize.ToString("N0", inv)} GPUs ({(cluster.Fabric is null ? "flat network: NVSwitch nodes, a NIC per GPU, non-blocking" : "with its fabric")}), " +
                $"global batch {workload.GlobalBatchSize.ToString("N0", inv)}");

            var p = Predictor.Uncalibrated.Cost;
            Scenario.CheckBatch(cluster, workload, "generated workload");
            var plannerName = r.GetValue(planner)!;
            var plan = Time($"plan: {plannerName}", () => Scenario.MakePlan(cluster, workload, plannerName, "generated workload"));
            var memory = Time("memory model and fit check", () =>
            {
                var m = MemoryModel.PerRank(cluster, workload, plan);
                MemoryModel.EnsureFits(cluster, m, $"planner {plannerName}");
                return m;
            });
            var s = new Scenario(cluster, workload, plan);
            var graph = Time("iteration DAG: build", () => IterationGraph.Build(cluster, workload, plan, p));
            var analytical = Time("analytical: longest path and report", () =>
                Prediction.From(PredictionMode.Analytical, s, Timeline.Analytical(graph), memory.Select(m => m.TotalBytes).ToArray(), p.Source));
            EngineRun? run = null;
            if (!r.GetValue(skipEvent))
            {
                var maxGroups = r.GetValue(groups);
                if (maxGroups < 1) throw new SimInputException("--node-groups", "", $"must be at least 1, found {maxGroups}");
                run = Time("event: simulate (fresh DAG)", () => EventEngine.Run(cluster, IterationGraph.Build(cluster, workload, plan, p), p, maxNodeGroups: maxGroups));
            }
            var elapsed = all.Elapsed.TotalSeconds;
            var peak = Process.GetCurrentProcess().PeakWorkingSet64;

            var met = elapsed < GoalSeconds && peak < GoalBytes;
            if (r.GetValue(json))
            {
                JsonOutput.Print(stdout, new JsonObject
                {
                    ["tables"] = workload.Tables.Count, ["embedding_parameters"] = workload.EmbeddingParameters, ["gpus"] = cluster.WorldSize,
                    ["nodes"] = cluster.Nodes, ["fabric"] = cluster.Fabric is not null, ["global_batch_size"] = workload.GlobalBatchSize,
                    ["stages"] = JsonOutput.Array(stages, x => new JsonObject { ["stage"] = x.Stage, ["seconds"] = x.Seconds }),
                    ["total_seconds"] = elapsed, ["shards"] = plan.Tables.Sum(t => t.Shards.Count), ["tasks"] = graph.Tasks.Count,
                    ["analytical_iteration_seconds"] = analytical.IterationSeconds, ["event_iteration_seconds"] = run?.Timeline.End,
                    ["events"] = run?.Stats.Events, ["flows"] = run?.Stats.Flows, ["memory_bytes_max"] = analytical.MemoryBytesMax,
                    ["peak_memory_bytes"] = peak, ["cores"] = Environment.ProcessorCount, ["build"] = BuildInfo.Configuration, ["goal_met"] = met,
                });
                return 0;
            }
            var width = stages.Max(x => x.Stage.Length);
            foreach (var (stage, seconds) in stages)
                stdout.WriteLine($"  {stage.PadRight(width)}  {seconds.ToString("0.000", inv),9} s");
            stdout.WriteLine($"  {"total".PadRight(width)}  {elapsed.ToString("0.000", inv),9} s");
            stdout.WriteLine($"plan: {plan.Tables.Sum(t => t.Shards.Count).ToString("N0", inv)} shards; DAG: {graph.Tasks.Count.ToString("N0", inv)} tasks");
            stdout.WriteLine($"iteration: analytical {Units.Seconds(analytical.IterationSeconds)}" +
                (run is null ? "" : $", event {Units.Seconds(run.Timeline.End)} ({run.Stats.Events.ToString("N0", inv)} events, {run.Stats.Flows.ToString("N0", inv)} flows, {run.Stats.RateRecomputes.ToString("N0", inv)} rate recomputations; {run.Stats.FlowModel})"));
            stdout.WriteLine($"memory per GPU: max {Units.Bytes(analytical.MemoryBytesMax)} of {Units.Bytes(cluster.Gpu.HbmBytes)}");
            stdout.WriteLine($"peak memory: {Units.Bytes(peak)} ({(peak / (double)(1L << 30)).ToString("0.00", inv)} GiB); {Environment.ProcessorCount} cores on this machine; {BuildInfo.Configuration} build");
            stdout.WriteLine($"goal (under {GoalSeconds} s and {GoalBytes >> 30} GiB): {(met ? "met" : "missed")}");
            return 0;
        });
        return cmd;
    }

    private static string Si(double v)
    {
        string[] u = ["", " K", " M", " G", " T", " P"];
        var i = 0;
        while (Math.Abs(v) >= 1000 && i < u.Length - 1) { v /= 1000; i++; }
        return v.ToString(i == 0 ? "0.##" : "0.00", CultureInfo.InvariantCulture) + u[i];
    }
}
