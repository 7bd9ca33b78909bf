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

    public bool HasConditions => SweepKnobs.HasConditions(this);

    /// <summary>The key's text: each knob of the catalogue as <c>name=value</c>, in its order (<see cref="SweepKnobs"/>).</summary>
    public string CanonicalText() => SweepKnobs.CanonicalText(this);

    /// <summary>A point to build knob by knob (the base, a stored row); every knob of the catalogue is then set.</summary>
    internal static SweepPoint Unset { get; } =
        new(0, 0, 0, 0, 0, DType.Fp32, DType.Fp32, DType.Fp32, DType.Fp32, 0, "", false, PredictionMode.Analytical);

    /// <summary>
    /// What the planner sees: everything but the schedule and the prediction mode, and for a planner that ignores
    /// them (<see cref="Planning.IPlanner.ReadsCommunicationDetails"/>) the communication precisions and, on
    /// more than one node, the NVLink bandwidth. Points equal in this text share one plan.
    /// </summary>
    internal string PlanInputsText()
    {
        var seen = SweepKnobs.WithoutConditions(this with { Overlap = false, Mode = PredictionMode.Analytical });
        if (!Scenario.Planner(Planner).ReadsCommunicationDetails)
            seen = seen with
            {
                AllToAllForwardPrecision = DType.Fp32, AllToAllBackwardPrecision = DType.Fp32, AllReducePrecision = DType.Fp32,
                NvlinkGBytesPerSecond = Nodes > 1 ? 0 : NvlinkGBytesPerSecond,
            };
        return seen.CanonicalText();
    }
}
