using System.Diagnostics;
using Sim.Sharding;
using Sim.Predictions;
using Sim.Iterations;

namespace Sim.Sweep;

/// <summary>Seconds per configuration spent in each step of an analytical sweep row, measured on one thread.</summary>
internal sealed record SweepStageTimes(double Plan, double Memory, double GraphBuild, double Timeline, double Report, double Key)
{
    public double Total => Plan + Memory + GraphBuild + Timeline + Report + Key;

    /// <summary>Bytes allocated per configuration by each step, in the order above (plan, memory, DAG, longest path, report, key).</summary>
    public IReadOnlyList<double> Bytes { get; init; } = new double[6];
}

/// <summary>What `sim sweep --bench` measured.</summary>
internal sealed record SweepBenchmarkResult(
    int Configurations,
    double ConfigurationsPerSecondOneThread,
    double ConfigurationsPerSecondAllThreads,
    int Threads,
    double IterationSecondsOnlyPerSecond,
    SweepStageTimes Stages)
{
    /// <summary>Bytes the one-thread measurement allocated per configuration (all threads' allocations, over the rows done).</summary>
    public double BytesAllocatedPerConfiguration { get; init; }
}

/// <summary>
/// Measures analytical sweep throughput without touching a database: whole rows on one thread (configurations per
/// second per core) and on all threads, the bare <see cref="Predictor.IterationSeconds"/> rate with a
/// ready plan, and where a row's time goes (planning, memory model, DAG build, longest path, report, key).
/// </summary>
internal static class SweepBenchmark
{
    public static SweepBenchmarkResult Run(SweepSpec spec, int threads, double seconds)
    {
        var inputs = SweepInputs.Load(spec);
        var points = SweepExpansion.Expand(spec, inputs, PredictionMode.Analytical).ToList();
        var options = new SweepOptions { Threads = threads };

        // Warm-up until the JIT has settled (tiered compilation promotes hot methods after some calls), at most 2 s.
        var warm = new SweepEvaluator(inputs);
        var warmClock = Stopwatch.StartNew();
        for (var i = 0; warmClock.Elapsed.TotalSeconds < Math.Min(2, seconds) && i < 4 * points.Count; i++) warm.Evaluate(points[i % points.Count]);

        double allocatedPerRow = 0;
        double Rate(int t)
        {
            var evaluator = new SweepEvaluator(inputs);
            long done = 0;
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var sw = Stopwatch.StartNew();
            do
            {
                foreach (var chunk in SweepRunner.Chunks(points, options))
                {
                    SweepRunner.Evaluate(evaluator, chunk, t);
                    evaluator.TrimCache();
                    done += chunk.Count;
                    if (sw.Elapsed.TotalSeconds >= seconds) break;
                }
            } while (sw.Elapsed.TotalSeconds < seconds);
            var elapsed = sw.Elapsed.TotalSeconds;
            if (t == 1) allocatedPerRow = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)Math.Max(1, done);
            return done / elapsed;
        }
        var one = Rate(1);
        var all = threads > 1 ? Rate(threads) : one;

        // Stages, one thread, with plans made fresh for each point (the runner shares them across schedule and mode).
        var ev = new SweepEvaluator(inputs);
        double plan = 0, memory = 0, build = 0, timeline = 0, report = 0, key = 0, bare = 0;
        var bytes = new long[6];
        long n = 0, bareN = 0;
        var clock = Stopwatch.StartNew();
        var fingerprint = inputs.Fingerprint;
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            foreach (var p in points)
            {
                var a0 = GC.GetAllocatedBytesForCurrentThread();
                var t0 = Stopwatch.GetTimestamp();
                SweepExpansion.Key(fingerprint, p);
                var t1 = Stopwatch.GetTimestamp();
                var a1 = GC.GetAllocatedBytesForCurrentThread();
                var cluster = ev.ClusterFor(p);
                var workload = ev.WorkloadFor(p);
                if (workload.GlobalBatchSize % cluster.WorldSize != 0) continue;
                ShardingPlan sp;
                try { sp = Scenario.MakePlan(cluster, workload, p.Planner, inputs.WorkloadFile); }
                catch (Config.SimInputException) { continue; }
                sp = sp with { Schedule = p.Overlap ? new Schedule(inputs.OverlapBuckets, true) : null };
                var t2 = Stopwatch.GetTimestamp();
                var a2 = GC.GetAllocatedBytesForCurrentThread();
                var mem = MemoryModel.PerRank(cluster, workload, sp);
                var t3 = Stopwatch.GetTimestamp();
                var a3 = GC.GetAllocatedBytesForCurrentThread();
                var graph = IterationGraph.Build(cluster, workload, sp, inputs.Predictor.CostFor(cluster));
                var t4 = Stopwatch.GetTimestamp();
                var a4 = GC.GetAllocatedBytesForCurrentThread();
                var tl = Iterations.Timeline.Analytical(graph);
                var t5 = Stopwatch.GetTimestamp();
                var a5 = GC.GetAllocatedBytesForCurrentThread();
                Prediction.From(PredictionMode.Analytical, new Scenario(cluster, workload, sp), tl, mem.Select(m => m.TotalBytes).ToArray(), inputs.Predictor.Cost.Source);
                var t6 = Stopwatch.GetTimestamp();
                var a6 = GC.GetAllocatedBytesForCurrentThread();
                key += t1 - t0; plan += t2 - t1; memory += t3 - t2; build += t4 - t3; timeline += t5 - t4; report += t6 - t5;
                bytes[0] += a2 - a1; bytes[1] += a3 - a2; bytes[2] += a4 - a3; bytes[3] += a5 - a4; bytes[4] += a6 - a5; bytes[5] += a1 - a0;
                n++;
                var b0 = Stopwatch.GetTimestamp();
                inputs.Predictor.IterationSeconds(new Scenario(cluster, workload, sp));
                bare += Stopwatch.GetTimestamp() - b0;
                bareN++;
                if (clock.Elapsed.TotalSeconds >= seconds) break;
            }
            if (n == 0) break;
        }
        double S(double ticks) => n == 0 ? 0 : ticks / Stopwatch.Frequency / n;
        var stages = new SweepStageTimes(S(plan), S(memory), S(build), S(timeline), S(report), S(key))
        {
            Bytes = n == 0 ? new double[6] : bytes.Select(b => b / (double)n).ToArray(),
        };
        var bareRate = bareN == 0 ? 0 : bareN / (bare / Stopwatch.Frequency);
        return new SweepBenchmarkResult(points.Count, one, all, threads, bareRate, stages) { BytesAllocatedPerConfiguration = allocatedPerRow };
    }
}
