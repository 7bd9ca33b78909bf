namespace Sim.Sweep;

/// <summary>Whether a configuration was predicted, could not run (input does not fit), or hit a bug.</summary>
internal static class RowStatus
{
    public const string Ok = "ok";
    /// <summary>The configuration is impossible: the batch does not divide, a GPU overflows, no plan fits.</summary>
    public const string Infeasible = "infeasible";
    /// <summary>Anything else: a bug, or an input the model cannot handle. The message says which.</summary>
    public const string Error = "error";
}

/// <summary>
/// One configuration's answer, as stored: every resolved knob, then the prediction (null where the status is not ok).
/// No timestamps or machine facts: identical inputs give identical rows.
/// </summary>
public sealed record SweepRow(
    SweepPoint Point,
    string Topology,
    string Workload,
    string Status,
    string? Error,
    double? IterationSeconds,
    double? SamplesPerSecond,
    IReadOnlyList<double>? PhaseSeconds,
    double? ExposedCommunicationSeconds,
    double? HiddenCommunicationSeconds,
    string? BottleneckPhase,
    long? MemoryBytesMax,
    long MemoryCapacityBytes)
{
    /// <summary>Under conditions: percentiles of the iterations simulated and the rank that paced most of them (null otherwise).</summary>
    public double? IterationSecondsP50 { get; init; }
    public double? IterationSecondsP90 { get; init; }
    public double? IterationSecondsP99 { get; init; }
    public int? PacingRank { get; init; }

    public string Key => Point.Key;
    public bool IsOk => Status == RowStatus.Ok;
}
