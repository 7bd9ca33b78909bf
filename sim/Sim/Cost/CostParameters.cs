namespace Sim.Cost;

/// <summary>
/// The tunable factors of the analytical models: achieved fractions of peak and fixed overheads.
/// Defaults are uncalibrated guesses and say so in <see cref="Source"/>; a calibration profile
/// (validation/runs) replaces them with fitted values.
/// </summary>
public sealed record CostParameters
{
    /// <summary>Fraction of peak FLOP/s a large dense GEMM achieves.</summary>
    public double GemmEfficiency { get; init; } = 0.6;
    /// <summary>
    /// GEMM size (FLOPs) at which the achieved fraction is half of <see cref="GemmEfficiency"/>: small GEMMs
    /// cannot fill the GPU. efficiency(f) = GemmEfficiency · f / (f + this). 0 = size-independent.
    /// </summary>
    public double GemmHalfSaturationFlops { get; init; }
    /// <summary>Fraction of HBM bandwidth a streaming (elementwise, optimizer) kernel achieves.</summary>
    public double MemoryEfficiency { get; init; } = 0.8;
    /// <summary>Fraction of HBM bandwidth an embedding gather achieves (random rows).</summary>
    public double EmbeddingEfficiency { get; init; } = 0.5;
    /// <summary>Fraction of HBM bandwidth the embedding backward with its fused optimizer update achieves.</summary>
    public double EmbeddingBackwardEfficiency { get; init; } = 0.5;
    /// <summary>
    /// Fraction of a GPU's share of host DDR bandwidth that random row accesses over UVM achieve
    /// (TorchRec's planner prices UVM at a tenth of its host bandwidth).
    /// </summary>
    public double UvmEfficiency { get; init; } = 0.1;
    /// <summary>Fraction of link bandwidth a collective achieves on the intra-node fabric.</summary>
    public double IntraNodeCollectiveEfficiency { get; init; } = 0.7;
    /// <summary>Fraction of link bandwidth a collective achieves on the scale-out network.</summary>
    public double ScaleOutCollectiveEfficiency { get; init; } = 0.8;
    /// <summary>
    /// Fixed cost of the embedding backward per shard: the fused update sorts the lookups and finds unique rows
    /// (several kernels and a host synchronisation), whatever the shard's size.
    /// </summary>
    public double EmbeddingBackwardShardSeconds { get; init; } = 20e-6;
    /// <summary>
    /// Input distribution: cost per row-split table of bucketising the indices by shard row range (and, in
    /// PyTorch-style stacks, synchronising on the bucket sizes) before the index all-to-all.
    /// </summary>
    public double RowSplitBucketiseSeconds { get; init; } = 20e-6;
    /// <summary>Fixed cost per kernel launch (host launch plus GPU ramp).</summary>
    public double KernelOverheadSeconds { get; init; } = 5e-6;
    /// <summary>Fixed cost per collective call beyond link latency (NCCL setup and sync).</summary>
    public double CollectiveOverheadSeconds { get; init; } = 10e-6;

    /// <summary>Measured collectives (latency and bus bandwidth per op and GPU count); used instead of the link model where present.</summary>
    public IReadOnlyList<CollectiveFit> CollectiveFits { get; init; } = [];

    /// <summary>
    /// Per phase, an affine correction fitted on end-to-end runs: modelled seconds s become Offset + Scale · s
    /// on every rank (collectives too). It absorbs what the operator models do not see (framework and launch
    /// overheads, host work inside a phase, kernels that differ from the modelled ones).
    /// </summary>
    public IReadOnlyDictionary<string, PhaseCorrection> PhaseCorrections { get; init; } = new Dictionary<string, PhaseCorrection>();

    /// <summary>
    /// Operator cost models of one stack fitted on microbenchmarks (a profile's <c>operators</c>); null: the roofline
    /// defaults above price every operator.
    /// </summary>
    public Operators.OperatorModels? Operators { get; init; }

    public string Source { get; init; } = "built-in defaults (uncalibrated)";

    public static readonly CostParameters Default = new();

    /// <summary>The corrected seconds of a phase's task; a task with no work stays free.</summary>
    public double Corrected(string phase, double seconds) => CorrectionOf(phase).Apply(seconds);

    /// <summary>The correction of one phase, looked up once (the iteration DAG applies it to every rank's task).</summary>
    public PhaseCorrection CorrectionOf(string phase) =>
        PhaseCorrections.TryGetValue(phase, out var c) ? c : PhaseCorrection.None;

    /// <summary>The fitted collective for an op at a GPU count, if calibration measured it.</summary>
    public CollectiveFit? Fit(string op, int worldSize)
    {
        foreach (var f in CollectiveFits) if (f.Op == op && f.WorldSize == worldSize) return f;
        return null;
    }
}

/// <summary>seconds = OffsetSeconds + Scale · modelled seconds (never below 0; 0 stays 0).</summary>
public sealed record PhaseCorrection(double OffsetSeconds, double Scale)
{
    public static readonly PhaseCorrection None = new(0, 1);

    public double Apply(double seconds) => seconds > 0 ? Math.Max(0, OffsetSeconds + Scale * seconds) : seconds;
}

/// <summary>
/// A collective measured on one machine, as nccl-tests sizes it (S: all-reduce buffer, all-to-all send buffer).
/// <see cref="Points"/> are the measured (S, seconds), and a size between two of them is interpolated linearly
/// (NCCL's bandwidth still ramps up between 1 MiB and 1 GiB, so no single line fits within 5%).
/// Beyond the largest point, LatencySeconds + busBytes / BusBytesPerSecond (a line through the largest
/// sizes) extrapolates; below the smallest, the smallest point's time holds (latency-bound).
/// busBytes follows nccl-tests: all-reduce 2(n-1)/n · S; all-to-all, reduce-scatter, all-gather (n-1)/n · S.
/// </summary>
public sealed record CollectiveFit(string Op, int WorldSize, double LatencySeconds, double BusBytesPerSecond, double MaxRelativeError,
    IReadOnlyList<MeasuredPoint>? Points = null)
{
    public double BusFactor => Nccl.CollectiveOps.BusBandwidthFactor(Op, WorldSize, unknown: Nccl.CollectiveOp.AllToAll);

    /// <summary>Seconds for a collective of nccl-tests size <paramref name="sizeBytes"/>.</summary>
    public double Seconds(double sizeBytes)
    {
        var pts = Points;
        if (pts is null || pts.Count == 0 || sizeBytes > pts[^1].Bytes)
        {
            var line = LatencySeconds + sizeBytes * BusFactor / BusBytesPerSecond;
            return pts is { Count: > 0 } ? Math.Max(line, pts[^1].Seconds) : line;
        }
        if (sizeBytes <= pts[0].Bytes) return pts[0].Seconds;
        var i = 1;
        while (pts[i].Bytes < sizeBytes) i++;
        var (a, b) = (pts[i - 1], pts[i]);
        // Linear in size between neighbours: exact wherever time is latency + bytes / bandwidth.
        return a.Seconds + (sizeBytes - a.Bytes) * (b.Seconds - a.Seconds) / (b.Bytes - a.Bytes);
    }
}

/// <summary>One measured collective size and its median seconds.</summary>
public sealed record MeasuredPoint(double Bytes, double Seconds);
