namespace Sim.Hardware;

/// <summary>One GPU: dense peak rate per compute dtype, HBM capacity and bandwidth.</summary>
public sealed record GpuSpec(
    string Model,
    IReadOnlyDictionary<DType, double> PeakFlopsPerSecond,
    long HbmBytes,
    double HbmBytesPerSecond,
    Provenance Provenance)
{
    /// <summary>Peak for a dtype; a dtype the spec lacks is an input error caught at load time.</summary>
    public double PeakFlops(DType dtype) =>
        PeakFlopsPerSecond.TryGetValue(dtype, out var f) ? f
        : throw new KeyNotFoundException($"GPU {Model} has no peak rate for {dtype.Name()}");
}
