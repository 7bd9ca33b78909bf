using System.Collections.Concurrent;
using Sim.Config;
using Sim.Hardware;
using Sim.Sharding;
using Sim.Topology;
using Sim.Workload;
using Sim.Predictions;
using Sim.Iterations;

namespace Sim.Sweep;

/// <summary>
/// Turns a <see cref="SweepPoint"/> into a <see cref="SweepRow"/>: builds the cluster and workload variants with
/// `with`, plans (or reads the plan file), checks the batch and memory, predicts. Impossible configurations become
/// rows with status infeasible and the one-line reason; nothing a single point does stops the sweep.
/// Plans are shared between points that differ only in schedule or mode (thread-safe cache, trimmed by the runner).
/// </summary>
public sealed class SweepEvaluator(SweepInputs inputs)
{
    private readonly ConcurrentDictionary<string, Lazy<PlanOrError>> _plans = new(StringComparer.Ordinal);
    // Points that differ only in knobs a variant does not read share one instance (keyed by exactly the knobs
    // ClusterFor and WorkloadFor read), so what is memoised per instance (a workload's dense stack) is computed once
    // per variant and a row does not copy the records.
    private readonly ConcurrentDictionary<(int, int, double, double, long), Cluster> _clusters = new();
    private readonly ConcurrentDictionary<(long, DType, DType, DType, DType), DlrmWorkload> _workloads = new();

    private sealed record PlanOrError(ShardingPlan? Plan, Exception? Error);

    public SweepInputs Inputs => inputs;

    /// <summary>
    /// Plans kept between chunks: up to 256, and up to about a million table placements in all (a 100,000-table
    /// plan is tens of MB with its embedding work), so that a sweep does not plan again what the previous chunk planned.
    /// </summary>
    private int MaxCachedPlans => Math.Clamp(1_000_000 / Math.Max(1, inputs.Workload.Tables.Count), 1, 256);

    /// <summary>Variants kept between chunks (each a few records).</summary>
    private const int MaxCachedVariants = 4096;

    /// <summary>Between chunks: forget the plans, or the variants, once there are more than the bound (bounded memory over long sweeps).</summary>
    public void TrimCache()
    {
        if (_plans.Count > MaxCachedPlans) _plans.Clear();
        if (_clusters.Count > MaxCachedVariants) _clusters.Clear();
        if (_workloads.Count > MaxCachedVariants) _workloads.Clear();
    }

    /// <summary>Forget cached plans and variants.</summary>
    public void ClearCache()
    {
        _plans.Clear();
        _clusters.Clear();
        _workloads.Clear();
    }

    // ClusterFor and WorkloadFor write by hand what the catalogue's FromCluster and FromWorkload read (a test checks each
    // knob comes back): one `with` per record and row, where applying knob by knob would copy the records once per knob.

    /// <summary>The cluster of a point (throws <see cref="SimInputException"/> when the topology's fabric does not fit its size).</summary>
    public Cluster ClusterFor(SweepPoint p)
    {
        // Keep ClusterKey in step: it names exactly the knobs read here.
        var c = ClusterFamily.Resize(inputs.Cluster, p.Nodes, p.GpusPerNode, inputs.TopologyFile);
        return c with
        {
            ScaleOut = c.ScaleOut with { BytesPerSecond = p.NicGbps * 1e9 / 8 },
            IntraNode = c.IntraNode with { BytesPerSecond = p.NvlinkGBytesPerSecond * 1e9 },
            Gpu = c.Gpu with { HbmBytes = p.HbmBytes },
        };
    }

    private static (int, int, double, double, long) ClusterKey(SweepPoint p) => (p.Nodes, p.GpusPerNode, p.NicGbps, p.NvlinkGBytesPerSecond, p.HbmBytes);

    public DlrmWorkload WorkloadFor(SweepPoint p)
    {
        // Keep WorkloadKey in step: it names exactly the knobs read here.
        var w = inputs.Workload;
        return w with
        {
            GlobalBatchSize = p.BatchSize,
            Precision = w.Precision with
            {
                AllToAllForward = p.AllToAllForwardPrecision,
                AllToAllBackward = p.AllToAllBackwardPrecision,
                AllReduce = p.AllReducePrecision,
                Compute = p.ComputePrecision,
            },
        };
    }

    /// <summary>
    /// The point's cluster and workload, one instance per combination of the knobs they are built from. A variant that
    /// cannot be built (a fabric that does not fit the size) throws each time: it is not cached.
    /// </summary>
    internal Cluster ClusterForCached(SweepPoint p) =>
        _clusters.TryGetValue(ClusterKey(p), out var c) ? c : _clusters.GetOrAdd(ClusterKey(p), ClusterFor(p));

    internal DlrmWorkload WorkloadForCached(SweepPoint p) =>
        _workloads.TryGetValue(WorkloadKey(p), out var w) ? w : _workloads.GetOrAdd(WorkloadKey(p), WorkloadFor(p));

    private static (long, DType, DType, DType, DType) WorkloadKey(SweepPoint p) =>
        (p.BatchSize, p.AllToAllForwardPrecision, p.AllToAllBackwardPrecision, p.AllReducePrecision, p.ComputePrecision);

    /// <summary>The checked scenario of a point (throws <see cref="SimInputException"/> when it is infeasible).</summary>
    public Scenario ScenarioFor(SweepPoint p, out MemoryUse[] memory)
    {
        var cluster = ClusterForCached(p);
        var workload = WorkloadForCached(p);
        Scenario.CheckBatch(cluster, workload, inputs.WorkloadFile);
        var plan = PlanFor(p, cluster, workload);
        plan = plan with { Schedule = p.Overlap ? new Schedule(inputs.OverlapBuckets, PipelineEmbeddings: true) : null };
        memory = MemoryModel.PerRank(cluster, workload, plan);
        return new Scenario(cluster, workload, plan);
    }

    private ShardingPlan PlanFor(SweepPoint p, Cluster cluster, DlrmWorkload workload)
    {
        if (inputs.PlanText is not null)
            return PlanLoader.Parse(inputs.PlanText, inputs.PlanFile!, workload, cluster);
        var entry = _plans.GetOrAdd(p.PlanInputsText(), _ => new Lazy<PlanOrError>(() =>
        {
            try { return new PlanOrError(Scenario.MakePlan(cluster, workload, p.Planner, inputs.WorkloadFile, inputs.Predictor), null); }
            catch (Exception e) { return new PlanOrError(null, e); }
        }));
        // A cached failure is thrown anew for each point (exception objects are not shared between threads).
        return entry.Value switch
        {
            { Plan: { } plan } => plan,
            { Error: SimInputException e } => throw new SimInputException(e.File, e.Line, e.Column, e.Field, e.Problem),
            { Error: { } e } => throw new PlannerFailure($"{e.GetType().Name}: {e.Message}"),
            _ => throw new InvalidOperationException("plan cache entry holds neither a plan nor an error"),
        };
    }

    public SweepRow Evaluate(SweepPoint p)
    {
        var topology = inputs.Cluster.Name;
        var workloadName = inputs.Workload.Name;
        long? memoryMax = null;
        try
        {
            var s = ScenarioFor(p, out var memory);
            long max = 0;
            foreach (var m in memory) max = Math.Max(max, m.TotalBytes);
            memoryMax = max;
            var planName = inputs.PlanFile ?? $"planner {p.Planner}";
            MemoryModel.EnsureFits(s.Cluster, memory, planName);
            var prediction = Predict(s, p.Mode, memory, ConditionsFor(p));
            var phases = new double[Phases.All.Count];
            foreach (var ph in prediction.Phases)
            {
                phases[Phases.IndexOf(ph.Name)] += ph.Seconds;
            }
            return new SweepRow(p, topology, workloadName, RowStatus.Ok, null, prediction.IterationSeconds, prediction.SamplesPerSecond,
                phases, prediction.ExposedCommunicationSeconds, prediction.HiddenCommunicationSeconds, prediction.BottleneckPhase,
                max, p.HbmBytes)
            {
                IterationSecondsP50 = prediction.Distribution?.P50, IterationSecondsP90 = prediction.Distribution?.P90,
                IterationSecondsP99 = prediction.Distribution?.P99, PacingRank = prediction.Distribution?.PacingRank,
            };
        }
        catch (SimInputException e)
        {
            return new SweepRow(p, topology, workloadName, RowStatus.Infeasible, e.Message, null, null, null, null, null, null, memoryMax, p.HbmBytes);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var message = e is PlannerFailure ? e.Message : $"{e.GetType().Name}: {e.Message}";
            return new SweepRow(p, topology, workloadName, RowStatus.Error, message, null, null, null, null, null, null, memoryMax, p.HbmBytes);
        }
    }

    public Prediction Predict(Scenario s, PredictionMode mode, MemoryUse[] memory, Conditions.OperatingConditions? conditions = null)
    {
        var perGpu = new long[memory.Length];
        for (var i = 0; i < memory.Length; i++) perGpu[i] = memory[i].TotalBytes;
        return inputs.Predictor.Run(s, mode, memory: perGpu, conditions: conditions).Prediction;
    }

    /// <summary>A point's conditions: background on the scale-out tiers, rank 0 slowed, jitter; null for the ideal cluster.</summary>
    public Conditions.OperatingConditions? ConditionsFor(SweepPoint p) => !p.HasConditions ? null
        : SweepKnobs.Apply(Conditions.OperatingConditions.None with { Iterations = inputs.Iterations, Seed = inputs.Seed }, p);
}

/// <summary>A planner that failed with something other than bad input; its message names the original exception.</summary>
internal sealed class PlannerFailure(string message) : Exception(message);
