using Sim.Nccl;

namespace Sim.Collectives;

/// <summary>Seconds one phase of a collective takes.</summary>
internal sealed record PhaseEstimate(string Name, double Seconds);

/// <summary>
/// A predicted collective, reported as nccl-tests reports a measured one: <see cref="Bytes"/> is the
/// nccl-tests size (per-rank buffer; the full buffer for reduce-scatter and all-gather), in FP32 bytes
/// before any wire compression; algbw = bytes / time and busbw = algbw × the op's bus factor (GB = 1e9).
/// </summary>
internal sealed record CollectiveEstimate(
    CollectiveOp Op,
    CollectiveAlgorithm Algorithm,
    string Protocol,
    int Ranks,
    double Bytes,
    string DType,
    double WireBytes,
    double Seconds,
    double CommunicationSeconds,
    double CodecSeconds,
    IReadOnlyList<PhaseEstimate> Phases,
    IReadOnlyDictionary<string, double> BytesPerTier)
{
    public double AlgBytesPerSecond => Seconds > 0 ? Bytes / Seconds : 0;
    public double BusBytesPerSecond => AlgBytesPerSecond * Op.BusBandwidthFactor(Ranks);
}
