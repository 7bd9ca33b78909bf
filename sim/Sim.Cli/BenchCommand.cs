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
internal static class BenchCommand
{
    public static Command Create(TextWriter stdout)
    {
        var topology = new Argument<string>("topology") { Description = "cluster, e.g. topologies/zionex-256node.yaml" };
        var workload = new Argument<string>("workload") { Description = "model, e.g. workloads/synthetic-1000-tables.yaml" };
        var repeat = new Option<int>("--repeat") { Description = "timed repetitions of each model (the median is reported, with the fastest and slowest)", DefaultValueFactory = _ => 5 };
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
            result["build"] = BuildInfo.Configuration;
            result["repeats"] = n;
            var times = new List<double>();
            double iteration = 0;
            for (var i = 0; i < n; i++)
            {
                sw.Restart();
                iteration = predictor.IterationSeconds(s);
                times.Add(sw.Elapsed.TotalSeconds);
            }
            var analytical = Sim.Measurements.TimeStats.Of(times);
            result["analytical_seconds_per_prediction"] = analytical.Median;
            result["analytical_seconds_min"] = analytical.Min;
            result["analytical_seconds_max"] = analytical.Max;
            result["iteration_seconds"] = iteration;
            if (!quiet) stdout.WriteLine($"analytical: {analytical.Median.ToString("0.0000", inv)} s per prediction (median of {n}; {analytical.Min.ToString("0.0000", inv)}-{analytical.Max.ToString("0.0000", inv)}), iteration {Units.Seconds(iteration)}");
            if (!r.GetValue(skipEvent))
            {
                times.Clear();
                EngineRun? run = null;
                for (var i = 0; i < n; i++)
                {
                    sw.Restart();
                    run = predictor.Run(s, PredictionMode.Event).Engine;
                    times.Add(sw.Elapsed.TotalSeconds);
                }
                var st = run!.Stats;
                var ev = Sim.Measurements.TimeStats.Of(times);
                var best = ev.Median;
                result["event_seconds_per_simulation"] = best;
                result["event_seconds_min"] = ev.Min;
                result["event_seconds_max"] = ev.Max;
                result["event_iteration_seconds"] = run.Timeline.End;
                result["events"] = st.Events;
                result["flows"] = st.Flows;
                if (!quiet) stdout.WriteLine($"event:      {best.ToString("0.000", inv)} s per simulation (median of {n}, task graph and report included), iteration {Units.Seconds(run.Timeline.End)}; " +
                    $"{st.Events.ToString("N0", inv)} events ({(st.Events / best).ToString("N0", inv)}/s), {st.Flows.ToString("N0", inv)} flows, {st.RateRecomputes.ToString("N0", inv)} rate recomputations");
            }
            result["peak_memory_bytes"] = Process.GetCurrentProcess().PeakWorkingSet64;
            result["cores"] = Environment.ProcessorCount;
            if (quiet) JsonOutput.Print(stdout, result);
            else stdout.WriteLine($"peak memory: {Units.Bytes(Process.GetCurrentProcess().PeakWorkingSet64)}; one thread; {Environment.ProcessorCount} cores on this machine; {BuildInfo.Configuration} build");
            return 0;
        });
        return cmd;
    }
}
