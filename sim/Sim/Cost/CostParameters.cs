namespace Sim.Cost;

/// <summary>
/// The tunable factors of the analytical models: achieved fractions of peak and fixed overheads.
/// Defaults are uncalibrated guesses and say so in <see cref="Source"/>; a calibration profile
/// (validation/runs) replaces them with fitted values.
/// </summary>
public sealed record CostParameters
{
    /// <summary>Fraction of peak FLOP/s a dense GEMM achieves.</summary>
    public double GemmEfficiency { get; init; } = 0.6;
    /// <summary>Fraction of HBM bandwidth a streaming (elementwise, optimizer) kernel achieves.</summary>
    public double MemoryEfficiency { get; init; } = 0.8;
    /// <summary>Fraction of HBM bandwidth an embedding gather/scatter achieves (random rows).</summary>
    public double EmbeddingEfficiency { get; init; } = 0.5;
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

    public string Source { get; init; } = "built-in defaults (uncalibrated)";

    public static readonly CostParameters Default = new();
}
