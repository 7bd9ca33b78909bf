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
    /// <summary>Fixed cost per kernel launch (host launch plus GPU ramp).</summary>
    public double KernelOverheadSeconds { get; init; } = 5e-6;
    /// <summary>Fixed cost per collective call beyond link latency (NCCL setup and sync).</summary>
    public double CollectiveOverheadSeconds { get; init; } = 10e-6;

    /// <summary>Measured collectives (latency and bus bandwidth per op and GPU count); used instead of the link model where present.</summary>
    public IReadOnlyList<CollectiveFit> CollectiveFits { get; init; } = [];

    /// <summary>
    /// Per compute phase, an affine correction fitted on end-to-end runs: modelled seconds s become
    /// Offset + Scale · s on every rank. It absorbs what the operator models do not see (framework and
    /// launch overheads, kernels that differ from the modelled ones).
    /// </summary>
    public IReadOnlyDictionary<string, PhaseCorrection> PhaseCorrections { get; init; } = new Dictionary<string, PhaseCorrection>();

    public string Source { get; init; } = "built-in defaults (uncalibrated)";

    public static readonly CostParameters Default = new();

    /// <summary>The corrected seconds of a compute phase.</summary>
    public double Corrected(string phase, double seconds) =>
        PhaseCorrections.TryGetValue(phase, out var c) ? Math.Max(0, c.OffsetSeconds + c.Scale * seconds) : seconds;

    /// <summary>The fitted collective for an op at a GPU count, if calibration measured it.</summary>
    public CollectiveFit? Fit(string op, int worldSize) =>
        CollectiveFits.FirstOrDefault(f => f.Op == op && f.WorldSize == worldSize);
}

/// <summary>seconds = OffsetSeconds + Scale · modelled seconds.</summary>
public sealed record PhaseCorrection(double OffsetSeconds, double Scale);

/// <summary>
/// A collective measured on one machine: time = LatencySeconds + busBytes / BusBytesPerSecond, where busBytes
/// follows nccl-tests (all-reduce: 2(n-1)/n · S; all-to-all, reduce-scatter, all-gather: (n-1)/n · S).
/// </summary>
public sealed record CollectiveFit(string Op, int WorldSize, double LatencySeconds, double BusBytesPerSecond, double MaxRelativeError);
