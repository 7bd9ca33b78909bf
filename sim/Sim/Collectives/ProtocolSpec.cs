namespace Sim.Collectives;

/// <summary>
/// A transfer protocol in NCCL's sense: LL (flag per 8 bytes: lowest latency, a fraction of the bandwidth),
/// LL128 (flag per 128 bytes), Simple (full bandwidth, highest per-step latency). A collective's time under
/// a protocol is <see cref="BaseSeconds"/> once, plus a per-step extra on top of the links' own latency,
/// plus bytes over bandwidth scaled by <see cref="BandwidthFraction"/>. Picking the fastest protocol per
/// message size gives the smooth latency-bound to bandwidth-bound curve nccl-tests shows.
/// </summary>
internal sealed record ProtocolSpec(
    string Name,
    double BaseSeconds,
    double IntraNodeStepSeconds,
    double NetworkStepSeconds,
    double BandwidthFraction)
{
    public double StepSeconds(bool network) => network ? NetworkStepSeconds : IntraNodeStepSeconds;
}
