using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Sim.Engine;
using Sim.Predictions;

namespace Sim.Cli;

/// <summary>
/// `sim bench TOPOLOGY WORKLOAD`: times the analytical model and the event engine on one scenario (greedy plan),
/// single-threaded, and reports events/s and peak memory. Performance goals live here, not in tests.
/// </summary>
public static class BenchCommand
{
    public static Command Create(TextWriter stdout)
    {
        var topology = new Argument<string>("topology") { Description = "cluster, e.g. topologies/zionex-256node.yaml" };
        var workload = new Argument<string>("workload") { Description = "model, e.g. workloads/synthetic-1000-tables.yaml" };
        var repeat = new Option<int>("--repeat") { Description = "timed repetitions of each model (the best is reported)", DefaultValueFactory = _ => 3 };
        var skipEvent = new Option<bool>("--analytical-only") { Description = "time only the analytical model" };
        var json = JsonOutput.Option("the timings");
        var cmd = new Command("bench", "Time the analytical model and the event engine on a scenario.") { topology, workload, repeat, skipEvent, json };
        cmd.SetAction(r =>
        {
            var inv = CultureInfo.InvariantCulture;
            var sw = Stopwatch.StartNew();
            var s = Scenario.Load(r.GetValue(topology)!, r.GetValue(workload)!, null, "greedy");
            var quiet = r.GetValue(json);
            var result = new JsonObject { ["workload"] = s.Workload.Name, ["tables"] = s.Workload.Tables.Count, ["topology"] = s.Cluster.Name, ["gpus"] = s.Cluster.WorldSize, ["load_seconds"] = sw.Elapsed.TotalSeconds };
            if (!quiet) stdout.WriteLine($"scenario: {s.Workload.Name} ({s.Workload.Tables.Count} tables) on {s.Cluster.Name} ({s.Cluster.WorldSize} GPUs), greedy plan: loaded and planned in {sw.Elapsed.TotalSeconds.ToString("0.000", inv)} s");
            var predictor = Predictor.Uncalibrated;
            var n = Math.Max(1, r.GetValue(repeat));
            var best = double.MaxValue;
            double iteration = 0;
            for (var i = 0; i < n; i++)
            {
                sw.Restart();
                iteration = predictor.IterationSeconds(s);
                best = Math.Min(best, sw.Elapsed.TotalSeconds);
            }
            result["analytical_seconds_per_prediction"] = best;
            result["iteration_seconds"] = iteration;
            if (!quiet) stdout.WriteLine($"analytical: {best.ToString("0.0000", inv)} s per prediction, iteration {Units.Seconds(iteration)}");
            if (!r.GetValue(skipEvent))
            {
                best = double.MaxValue;
                EngineRun? run = null;
                for (var i = 0; i < n; i++)
                {
                    sw.Restart();
                    run = predictor.Run(s, PredictionMode.Event).Engine;
                    best = Math.Min(best, sw.Elapsed.TotalSeconds);
                }
                var st = run!.Stats;
                result["event_seconds_per_simulation"] = best;
                result["event_iteration_seconds"] = run.Timeline.End;
                result["events"] = st.Events;
                result["flows"] = st.Flows;
                if (!quiet) stdout.WriteLine($"event:      {best.ToString("0.000", inv)} s per simulation (task graph and report included), iteration {Units.Seconds(run.Timeline.End)}; " +
                    $"{st.Events.ToString("N0", inv)} events ({(st.Events / best).ToString("N0", inv)}/s), {st.Flows.ToString("N0", inv)} flows, {st.RateRecomputes.ToString("N0", inv)} rate recomputations");
            }
            result["peak_memory_bytes"] = Process.GetCurrentProcess().PeakWorkingSet64;
            result["cores"] = Environment.ProcessorCount;
            if (quiet) JsonOutput.Print(stdout, result);
            else stdout.WriteLine($"peak memory: {Units.Bytes(Process.GetCurrentProcess().PeakWorkingSet64)}; one thread; {Environment.ProcessorCount} cores on this machine");
            return 0;
        });
        return cmd;
    }
}
