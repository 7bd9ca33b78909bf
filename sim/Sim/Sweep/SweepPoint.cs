using System.Globalization;
using System.Text;
using Sim.Workload;
using Sim.Predictions;
using Sim.Hardware;

namespace Sim.Sweep;

/// <summary>
/// One configuration of a sweep with every knob resolved: the base files' values where no axis varies them,
/// the axis value where one does. Its <see cref="CanonicalText"/> (fixed field order, invariant formatting)
/// is what the configuration's key hashes, so the order of axes in a file never changes a key, and an axis
/// pinned to the base value gives the same key as no axis at all.
/// </summary>
public sealed record SweepPoint(
    int Nodes,
    int GpusPerNode,
    double NicGbps,
    double NvlinkGBytesPerSecond,
    long HbmBytes,
    DType AllToAllForwardPrecision,
    DType AllToAllBackwardPrecision,
    DType AllReducePrecision,
    DType ComputePrecision,
    long BatchSize,
    string Planner,
    bool Overlap,
    PredictionMode Mode)
{
    /// <summary>Hex SHA-256 prefix of the inputs' contents and <see cref="CanonicalText"/>; set by <see cref="SweepExpansion"/>.</summary>
    public string Key { get; init; } = "";

    public int Gpus => Nodes * GpusPerNode;

    /// <summary>Fraction of every scale-out link (pcie, nic, leaf, spine) taken by other jobs (event mode sees it).</summary>
    public double BackgroundLoad { get; init; }
    /// <summary>How many times as long rank 0's compute takes (1: no straggler).</summary>
    public double StragglerFactor { get; init; } = 1;
    /// <summary>σ of the lognormal compute jitter (0: none); with jitter a row holds p50/p90/p99 over the sweep's iterations.</summary>
    public double JitterSigma { get; init; }

    public bool HasConditions => BackgroundLoad != 0 || StragglerFactor != 1 || JitterSigma != 0;

    public string CanonicalText()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder(256);
        sb.Append("nodes=").Append(Nodes.ToString(inv)).Append('\n');
        sb.Append("gpus_per_node=").Append(GpusPerNode.ToString(inv)).Append('\n');
        sb.Append("nic_gbps=").Append(NicGbps.ToString("R", inv)).Append('\n');
        sb.Append("nvlink_gbytes_per_second=").Append(NvlinkGBytesPerSecond.ToString("R", inv)).Append('\n');
        sb.Append("hbm_bytes=").Append(HbmBytes.ToString(inv)).Append('\n');
        sb.Append("all_to_all_forward_precision=").Append(AllToAllForwardPrecision.Name()).Append('\n');
        sb.Append("all_to_all_backward_precision=").Append(AllToAllBackwardPrecision.Name()).Append('\n');
        sb.Append("all_reduce_precision=").Append(AllReducePrecision.Name()).Append('\n');
        sb.Append("compute_precision=").Append(ComputePrecision.Name()).Append('\n');
        sb.Append("batch_size=").Append(BatchSize.ToString(inv)).Append('\n');
        sb.Append("planner=").Append(Planner).Append('\n');
        sb.Append("overlap=").Append(Overlap ? "true" : "false").Append('\n');
        sb.Append("mode=").Append(Mode.Word()).Append('\n');
        // Only when set: sweeps without these knobs keep the keys they had.
        if (BackgroundLoad != 0) sb.Append("background_load=").Append(BackgroundLoad.ToString("R", inv)).Append('\n');
        if (StragglerFactor != 1) sb.Append("straggler_factor=").Append(StragglerFactor.ToString("R", inv)).Append('\n');
        if (JitterSigma != 0) sb.Append("jitter_sigma=").Append(JitterSigma.ToString("R", inv)).Append('\n');
        return sb.ToString();
    }

    /// <summary>
    /// What the planner sees: everything but the schedule and the prediction mode, and for a planner that ignores
    /// them (<see cref="Planning.IPlanner.ReadsCommunicationDetails"/>) the communication precisions and, on
    /// more than one node, the NVLink bandwidth. Points equal in this text share one plan.
    /// </summary>
    internal string PlanInputsText()
    {
        var seen = this with { Overlap = false, Mode = PredictionMode.Analytical, BackgroundLoad = 0, StragglerFactor = 1, JitterSigma = 0 };
        if (!Scenario.Planner(Planner).ReadsCommunicationDetails)
            seen = seen with
            {
                AllToAllForwardPrecision = DType.Fp32, AllToAllBackwardPrecision = DType.Fp32, AllReducePrecision = DType.Fp32,
                NvlinkGBytesPerSecond = Nodes > 1 ? 0 : NvlinkGBytesPerSecond,
            };
        return seen.CanonicalText();
    }
}
