using System.Text;
using Sim.Config;
using Sim.Conditions;
using Sim.Hardware;
using Sim.Predictions;
using Sim.Topology;
using Sim.Workload;

namespace Sim.Sweep;

/// <summary>
/// The catalogue of sweep knobs: one entry per knob says how it is read from a sweep file, keyed, stored, reported
/// and applied. Everything else derives from it: the axes (<see cref="SweepAxis.All"/>), a point's canonical text,
/// the results columns, the report's dimensions, the base point and a point's conditions.
/// </summary>
/// <remarks>
/// The order is the axes' expansion order (outermost first; planner, overlap and mode last so that configurations
/// sharing a plan are neighbours) and the report's. Keys and columns take the knobs in this order, late knobs
/// (<see cref="SweepKnob.IsLate"/>) after the others: changing the order of entries changes every key.
/// </remarks>
internal static class SweepKnobs
{
    private static readonly string[] CommunicationWords = ["fp32", "fp16", "bf16", "fp8", "int8"];
    private static readonly string[] ComputeWords = ["fp32", "tf32", "fp16", "bf16", "fp8"];

    // Where a sweep point's conditions come from, for messages (rank 0 is in every cluster).
    private static readonly InputSpot PointSpot = new("sweep point", 0, 0, "");

    public static IReadOnlyList<SweepKnob> All { get; } =
    [
        new SweepKnob<int>
        {
            Name = "nodes", Type = KnobTypes.Int, Get = p => p.Nodes, Set = (p, v) => p with { Nodes = v },
            Help = "number of nodes (the node shape stays)", Min = 1, Max = 1_000_000, Label = "nodes",
            FromCluster = c => c.Nodes,
        },
        new SweepKnob<int>
        {
            Name = "gpus_per_node", Type = KnobTypes.Int, Get = p => p.GpusPerNode, Set = (p, v) => p with { GpusPerNode = v },
            Help = "GPUs in each node", Min = 1, Max = 1024, Label = "GPUs/node",
            FromCluster = c => c.GpusPerNode,
        },
        new SweepKnob<int> { Name = "gpus", Type = KnobTypes.Int, Get = p => p.Gpus, Label = "GPUs" },
        new SweepKnob<double>
        {
            Name = "nic_gbps", Type = KnobTypes.Number, Get = p => p.NicGbps, Set = (p, v) => p with { NicGbps = v },
            Help = "scale-out NIC bandwidth per NIC, Gb/s each way", Min = 1e-6, Max = 1e7, Label = "NIC Gb/s",
            FromCluster = c => c.ScaleOut.BytesPerSecond * 8 / 1e9,
        },
        new SweepKnob<double>
        {
            Name = "nvlink_gbytes_per_second", Type = KnobTypes.Number, Get = p => p.NvlinkGBytesPerSecond, Set = (p, v) => p with { NvlinkGBytesPerSecond = v },
            Help = "intra-node (NVLink) bandwidth per GPU, GB/s each way", Min = 1e-6, Max = 1e7, Label = "NVLink GB/s",
            FromCluster = c => c.IntraNode.BytesPerSecond / 1e9,
        },
        new SweepKnob<long>
        {
            Name = "hbm_bytes", Type = KnobTypes.Long, Get = p => p.HbmBytes, Set = (p, v) => p with { HbmBytes = v },
            Help = "HBM capacity per GPU, bytes", Min = 1, Max = 1L << 50, Label = "HBM", Show = p => Units.Bytes(p.HbmBytes),
            FromCluster = c => c.Gpu.HbmBytes,
        },
        new SweepKnob<DType>
        {
            Name = "comm_precision", Type = KnobTypes.Precision,
            Set = (p, v) => p with { AllToAllForwardPrecision = v, AllToAllBackwardPrecision = v, AllReducePrecision = v },
            Help = "precision of both all-to-alls and the all-reduce", Words = CommunicationWords,
            ConflictsWith = ["all_to_all_precision", "all_reduce_precision"],
        },
        // Forward and backward as one axis, and one report dimension ("fp16", or "fp16/fp32" where they differ).
        new SweepKnob<DType>
        {
            Name = "all_to_all_precision", Type = KnobTypes.Precision,
            Set = (p, v) => p with { AllToAllForwardPrecision = v, AllToAllBackwardPrecision = v },
            Help = "precision of the forward and backward all-to-all", Words = CommunicationWords,
            Label = "all-to-all", Show = p => p.AllToAllForwardPrecision == p.AllToAllBackwardPrecision
                ? p.AllToAllForwardPrecision.Name()
                : $"{p.AllToAllForwardPrecision.Name()}/{p.AllToAllBackwardPrecision.Name()}",
        },
        new SweepKnob<DType>
        {
            Name = "all_to_all_forward_precision", Type = KnobTypes.Precision,
            Get = p => p.AllToAllForwardPrecision, Set = (p, v) => p with { AllToAllForwardPrecision = v },
            FromWorkload = w => w.Precision.AllToAllForward,
        },
        new SweepKnob<DType>
        {
            Name = "all_to_all_backward_precision", Type = KnobTypes.Precision,
            Get = p => p.AllToAllBackwardPrecision, Set = (p, v) => p with { AllToAllBackwardPrecision = v },
            FromWorkload = w => w.Precision.AllToAllBackward,
        },
        new SweepKnob<DType>
        {
            Name = "all_reduce_precision", Type = KnobTypes.Precision,
            Get = p => p.AllReducePrecision, Set = (p, v) => p with { AllReducePrecision = v },
            Help = "precision of the dense gradient all-reduce", Words = CommunicationWords, Label = "all-reduce",
            FromWorkload = w => w.Precision.AllReduce,
        },
        new SweepKnob<DType>
        {
            Name = "compute_precision", Type = KnobTypes.Precision,
            Get = p => p.ComputePrecision, Set = (p, v) => p with { ComputePrecision = v },
            Help = "precision of dense compute (the GPU needs a peak for it)", Words = ComputeWords, Label = "compute",
            FromWorkload = w => w.Precision.Compute,
        },
        new SweepKnob<long>
        {
            Name = "batch_size", Type = KnobTypes.Long, Get = p => p.BatchSize, Set = (p, v) => p with { BatchSize = v },
            Help = "global batch, samples per iteration", Min = 1, Max = 1L << 40, Label = "batch",
            FromWorkload = w => w.GlobalBatchSize,
        },
        // After the shape axes, whose values it multiplies.
        new SweepKnob<long>
        {
            Name = "batch_size_per_gpu", Type = KnobTypes.Long, Set = (p, v) => p with { BatchSize = checked(v * p.Gpus) },
            Help = "samples per GPU per iteration (global batch = this x GPUs)", Min = 1, Max = 1L << 30,
            ConflictsWith = ["batch_size"],
        },
        // Non-ideal conditions (issue 21): applied by the predictor, never seen by the planner; late, at the ideal cluster.
        new SweepKnob<double>
        {
            Name = "background_load", Type = KnobTypes.Number, Default = 0,
            Get = p => p.BackgroundLoad, Set = (p, v) => p with { BackgroundLoad = v },
            Help = "fraction of every scale-out link (pcie, nic, leaf, spine) taken by other jobs; only event mode sees it",
            Min = 0, Max = 1, AllowsZero = true, MaxExclusive = true, Label = "background load",
            EventOnly = "only the event engine sees background load; set `mode: event` in the base (analytical mode prices an empty fabric)",
            ToConditions = (o, v) => o with { Background = new BackgroundLoad(new Dictionary<string, double> { [BackgroundLoad.ScaleOut] = v }) },
        },
        new SweepKnob<double>
        {
            Name = "straggler_factor", Type = KnobTypes.Number, Default = 1,
            Get = p => p.StragglerFactor, Set = (p, v) => p with { StragglerFactor = v },
            Help = "rank 0's compute takes this many times as long (1 = no straggler)", Min = 1e-3, Max = Stragglers.MaxFactor, Label = "straggler",
            ToConditions = (o, v) => o with { Stragglers = o.Stragglers with { Fixed = [new StragglerFactor(StragglerScope.Rank, 0, v, PointSpot)] } },
        },
        new SweepKnob<double>
        {
            Name = "jitter_sigma", Type = KnobTypes.Number, Default = 0,
            Get = p => p.JitterSigma, Set = (p, v) => p with { JitterSigma = v },
            Help = "σ of lognormal compute jitter per task (0 = none); rows hold p50/p90/p99 over the base's iterations",
            Min = 0, Max = Jitter.MaxSigma, AllowsZero = true, Label = "jitter σ",
            ToConditions = (o, v) => o with { Stragglers = o.Stragglers with { Jitter = new Jitter(v) } },
        },
        // The base's planner, overlap and mode come from the sweep file's base section, not from its inputs.
        new SweepKnob<string>
        {
            Name = "planner", Type = KnobTypes.Word, Get = p => p.Planner, Set = (p, v) => p with { Planner = v },
            Help = "sharding planner", Words = Scenario.Planners, Label = "planner",
        },
        new SweepKnob<bool>
        {
            Name = "overlap", Type = KnobTypes.Switch, Get = p => p.Overlap, Set = (p, v) => p with { Overlap = v },
            Help = "communication overlap: on = bucketed all-reduce and pipelined embeddings, off = sequential", Label = "overlap",
        },
        new SweepKnob<PredictionMode>
        {
            Name = "mode", Type = KnobTypes.Mode, Get = p => p.Mode, Set = (p, v) => p with { Mode = v },
            Help = "analytical (closed form, fast) or event (discrete-event, contention)", Words = PredictionModes.Words, Label = "mode",
        },
    ];

    /// <summary>The knobs a key writes, in its order: the first ones, then the late ones.</summary>
    internal static SweepKnob[] Keyed { get; } = [.. All.Where(k => k.IsStored && !k.IsLate), .. All.Where(k => k.IsStored && k.IsLate)];

    private static readonly SweepKnob[] ConditionsKnobs = [.. All.Where(k => k.ChangesConditions)];

    /// <summary>Fixed field order, invariant formatting: see <see cref="SweepPoint.CanonicalText"/>.</summary>
    public static string CanonicalText(SweepPoint p)
    {
        // One builder per thread: every row writes a key, and the text is copied out.
        var sb = _keyText ??= new StringBuilder(256);
        sb.Clear();
        foreach (var k in Keyed) k.AppendKey(sb, p);
        return sb.ToString();
    }

    [ThreadStatic] private static StringBuilder? _keyText;

    /// <summary>
    /// The point's knobs set from the base inputs where they hold them (shape, bandwidths, memory, precisions, batch);
    /// <see cref="SweepEvaluator.ClusterFor"/> and <see cref="SweepEvaluator.WorkloadFor"/> write them back.
    /// </summary>
    public static SweepPoint FromInputs(SweepPoint p, Cluster c, DlrmWorkload w)
    {
        foreach (var k in All) p = k.FromInputs(p, c, w);
        return p;
    }

    /// <summary>Whether any conditions knob is off its default (the ideal cluster).</summary>
    public static bool HasConditions(SweepPoint p)
    {
        foreach (var k in ConditionsKnobs) if (k.IsOffDefault(p)) return true;
        return false;
    }

    /// <summary>The point at the ideal cluster: what the planner sees (conditions reach only the predictor).</summary>
    public static SweepPoint WithoutConditions(SweepPoint p)
    {
        foreach (var k in ConditionsKnobs) p = k.AtDefault(p);
        return p;
    }

    public static OperatingConditions Apply(OperatingConditions o, SweepPoint p)
    {
        foreach (var k in ConditionsKnobs) o = k.ApplyTo(o, p);
        return o;
    }
}
