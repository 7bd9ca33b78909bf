using Sim.Iterations;
using System.Text.Json;
using Sim.Harness.Backends;
using Sim.Harness.Distributed;
using TorchSharp;
using Sim.Measurements;

namespace Sim.Harness.Training;

/// <param name="Stack">How the embeddings are trained (<see cref="EmbeddingStack"/>).</param>
/// <param name="Optimizer">Replaces the workload's optimizer when set.</param>
public sealed record RunOptions(int Iterations, int Warmup, long Seed, double LearningRate,
    EmbeddingStack Stack = EmbeddingStack.Eager, Workload.Optimizer? Optimizer = null)
{
    public int Total => Warmup + Iterations;
}

/// <summary>What a run produced: every rank's timing of every iteration it finished, the losses, and the failure if any.</summary>
public sealed class RunOutcome
{
    /// <summary>[iteration][rank]; null where that rank did not finish that iteration.</summary>
    public required IterationTiming?[][] Timings { get; init; }
    /// <summary>Global mean loss per iteration (NaN where not finished).</summary>
    public required double[] Losses { get; init; }
    public RankFailureException? Failure { get; init; }
    public int Warmup { get; init; }

    /// <summary>Iterations after warm-up that every rank finished.</summary>
    public IReadOnlyList<int> MeasuredIterations =>
        Enumerable.Range(Warmup, Math.Max(0, Timings.Length - Warmup)).Where(i => Timings[i].All(t => t is not null)).ToList();
}

/// <summary>Runs warm-up plus measured training iterations of a scenario on W ranks of a backend.</summary>
public static class TrainingRun
{
    /// <param name="inspect">Called on every rank's thread after the last iteration, before its state is freed (tests read parameters here).</param>
    /// <param name="progress">Called by rank 0 after each iteration with (iteration, its timing, loss).</param>
    public static RunOutcome Execute(Scenario scenario, IBackend backend, RunOptions o,
        Action<RankTrainer>? inspect = null, Action<int, IterationTiming, double>? progress = null)
    {
        if (o.Optimizer is { } opt && opt != scenario.Workload.Optimizer)
            scenario = scenario with { Workload = scenario.Workload with { Optimizer = opt } };
        var world = scenario.Cluster.WorldSize;
        var layout = new EmbeddingLayout(scenario.Workload, scenario.Plan, world);
        var settings = new TrainerSettings(o.Seed, o.LearningRate, o.Stack);
        var timings = Enumerable.Range(0, o.Total).Select(_ => new IterationTiming?[world]).ToArray();
        var losses = Enumerable.Repeat(double.NaN, o.Total).ToArray();
        RankFailureException? failure = null;
        var tf32 = scenario.Workload.Precision.Compute == Hardware.DType.Tf32;
        if (backend.Name == "cuda") torch.backends.cuda.matmul.allow_tf32 = tf32;
        try
        {
            backend.RunRanks(world, RankBody(scenario, layout, settings, o, timings, losses, inspect, progress));
        }
        catch (RankFailureException e) { failure = e; }
        return new RunOutcome { Timings = timings, Losses = losses, Failure = failure, Warmup = o.Warmup };
    }

    private static Action<RankContext> RankBody(Scenario scenario, EmbeddingLayout layout, TrainerSettings settings, RunOptions o,
        IterationTiming?[][] timings, double[] losses, Action<RankTrainer>? inspect, Action<int, IterationTiming, double>? progress) => ctx =>
    {
        using var trainer = new RankTrainer(ctx, scenario.Workload, layout, settings);
        using var timer = ctx.CreateTimer(Phases.All.Count);
        for (var it = 0; it < o.Total; it++)
        {
            using var batch = BatchGenerator.Generate(scenario.Workload, o.Seed, it, ctx.Rank, layout.LocalBatch, ctx.Device);
            ctx.Comm.Barrier();
            timer.StartIteration();
            var loss = trainer.Step(batch, timer);
            var timing = timer.FinishIteration();
            var value = loss.item<float>();
            loss.Dispose();
            timings[it][ctx.Rank] = timing;
            if (ctx.Rank == 0)
            {
                losses[it] = value;
                progress?.Invoke(it, timing, value);
            }
        }
        ctx.Comm.Barrier();
        inspect?.Invoke(trainer);
    };

    /// <summary>What one process sends rank 0 at the end of a multi-process run.</summary>
    private static readonly JsonSerializerOptions ResultJson = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private sealed record RankResult(int Rank, double[]?[] Timings, double[]? Losses, bool Cancelled, int FailedRank, string? FailedCall, string? Error);

    /// <summary>
    /// Runs this process's one rank of a multi-process run (<paramref name="group"/> from the rendezvous), then sends
    /// its timings to rank 0 over the group's TCP channel. Rank 0 gets the whole run's outcome, exactly as a threaded
    /// run gives it (every rank's timings, rank 0's losses, the first failure); other ranks get null.
    /// </summary>
    public static RunOutcome? ExecuteProcess(Scenario scenario, IBackend backend, ProcessGroup group, int localDevice, RunOptions o,
        Action<RankTrainer>? inspect = null, Action<int, IterationTiming, double>? progress = null)
    {
        if (o.Optimizer is { } opt && opt != scenario.Workload.Optimizer)
            scenario = scenario with { Workload = scenario.Workload with { Optimizer = opt } };
        var world = scenario.Cluster.WorldSize;
        if (group.World != world) throw new ArgumentException($"the group has {group.World} ranks, the scenario {world}");
        var layout = new EmbeddingLayout(scenario.Workload, scenario.Plan, world);
        var settings = new TrainerSettings(o.Seed, o.LearningRate, o.Stack);
        var timings = Enumerable.Range(0, o.Total).Select(_ => new IterationTiming?[world]).ToArray();
        var losses = Enumerable.Repeat(double.NaN, o.Total).ToArray();
        if (backend.Name == "cuda") torch.backends.cuda.matmul.allow_tf32 = scenario.Workload.Precision.Compute == Hardware.DType.Tf32;
        RankFailureException? own = null;
        var cancelled = false;
        try { backend.RunProcessRank(group, localDevice, RankBody(scenario, layout, settings, o, timings, losses, inspect, progress)); }
        catch (RankCancelledException) { cancelled = true; }
        catch (RankFailureException e) { own = e; }

        var me = group.Rank;
        var mine = new RankResult(me,
            timings.Select<IterationTiming?[], double[]?>(t => t[me] is { } x ? [.. x.PhaseSeconds, x.IterationSeconds] : null).ToArray(),
            me == 0 ? losses : null, cancelled, own?.Rank ?? -1, own?.Call, own?.Error);
        var all = group.GatherResults(JsonSerializer.SerializeToUtf8Bytes(mine, ResultJson), own is not null, out var missing);
        if (all is null) return null;

        var results = all.Select(b => b is null ? null : JsonSerializer.Deserialize<RankResult>(b, ResultJson)).ToArray();
        foreach (var r in results.OfType<RankResult>())
            for (var it = 0; it < Math.Min(o.Total, r.Timings.Length); it++)
                if (r.Timings[it] is { } v && r.Rank >= 0 && r.Rank < world)
                    timings[it][r.Rank] = new IterationTiming(v[..^1], v[^1]);
        RankFailureException? Failure(RankResult? r) => r?.FailedCall is null ? null : new RankFailureException(r.FailedRank, r.FailedCall, r.Error ?? "");
        var first = group.FirstFailedRank;
        var failure = (first >= 0 && first < world ? Failure(results[first]) : null)
            ?? results.Select(Failure).FirstOrDefault(f => f is not null);
        if (failure is null && group.IsCancelled)
            failure = new RankFailureException(Math.Max(first, 0), "run", group.CancelReason ?? "cancelled");
        if (missing is not null)
            failure = failure is null
                ? new RankFailureException(0, "gather", missing)
                : new RankFailureException(failure.Rank, failure.Call, $"{failure.Error} ({missing})", failure);
        return new RunOutcome { Timings = timings, Losses = losses, Failure = failure, Warmup = o.Warmup };
    }

    /// <summary>Statistics over the measured iterations, or null when none finished.</summary>
    public static EndToEndResult? Summarise(RunOutcome outcome, long globalBatch)
    {
        var its = outcome.MeasuredIterations;
        if (its.Count == 0) return null;
        var nPhases = Phases.All.Count;
        var samples = its.Select(i =>
        {
            var ranks = outcome.Timings[i].Select(t => t!).ToArray();
            var phases = Enumerable.Range(0, nPhases).Select(p => ranks.Max(r => r.PhaseSeconds[p])).ToArray();
            return new IterationSample(
                ranks.Max(r => r.IterationSeconds),
                ranks.Max(r => r.BusySeconds),
                ranks.Max(r => r.HostOverheadSeconds),
                phases,
                outcome.Losses[i]);
        }).ToList();
        var phaseStats = Phases.All.Select((name, p) =>
        {
            var s = TimeStats.Of(samples.Select(x => x.Phases[p]).ToArray());
            return new PhaseStats(name, s.Median, s.Min, s.Max);
        }).ToList();
        var world = outcome.Timings[its[0]].Length;
        var rankMedians = Enumerable.Range(0, world).Select(r =>
            (IReadOnlyList<double>)Enumerable.Range(0, nPhases)
                .Select(p => TimeStats.Of(its.Select(i => outcome.Timings[i][r]!.PhaseSeconds[p]).ToArray()).Median).ToList()).ToList();
        var iteration = TimeStats.Of(samples.Select(x => x.Seconds).ToArray());
        var overhead = TimeStats.Of(samples.Select(x => x.HostOverhead).ToArray());
        return new EndToEndResult(
            samples.Count,
            phaseStats,
            iteration,
            TimeStats.Of(samples.Select(x => x.GpuBusy).ToArray()),
            overhead,
            iteration.Median > 0 ? overhead.Median / iteration.Median : 0,
            iteration.Median > 0 ? globalBatch / iteration.Median : 0,
            rankMedians,
            samples);
    }
}
