using Sim.Cost;
using Sim.Topology.Routing;

namespace Sim.Collectives;

/// <summary>One phase with its links loaded: the slowest link's time per payload byte and the latencies.</summary>
/// <param name="BottleneckSecondsPerByte">Max over links of this phase's bytes on it over its achieved bandwidth, per payload byte.</param>
/// <param name="BottleneckLink">The link that sets it (−1 for an empty phase).</param>
internal sealed record AnalysedPhase(
    SchedulePhase Phase,
    double BottleneckSecondsPerByte,
    int BottleneckLink,
    double IntraNodeLatencySeconds,
    double ScaleOutLatencySeconds,
    IReadOnlyDictionary<string, double> BytesPerTierPerByte);

/// <summary>
/// A schedule routed on the graph once; its time for any payload and protocol is then a closed form
/// (loads scale linearly with the payload). Time for protocol p and payload S:
/// Σ phases Repeat · [intra steps · (α_intra + p.intra) + network steps · (α_net + p.net)
///                    + bandwidth steps · bottleneck · S / p.fraction + peer messages · per-message cost].
/// </summary>
internal sealed class AnalysedSchedule
{
    public CollectiveSchedule Schedule { get; }
    public IReadOnlyList<AnalysedPhase> Phases { get; }
    private readonly TierBytes[] _perRankPerByte;

    private AnalysedSchedule(CollectiveSchedule schedule, IReadOnlyList<AnalysedPhase> phases, TierBytes[] perRank)
    {
        Schedule = schedule; Phases = phases; _perRankPerByte = perRank;
    }

    public static AnalysedSchedule Analyse(CollectiveSchedule schedule, CostParameters cost)
    {
        var g = schedule.Communicator.Graph;
        var search = new ShortestPathSearch(g);
        var perRank = new TierBytes[g.WorldSize];
        var phases = new List<AnalysedPhase>();
        var unit = 1 / schedule.PayloadBytes;
        foreach (var phase in schedule.Phases)
        {
            var loads = LinkLoads.Compute(g, phase.Traffic, search);
            double worst = 0;
            var worstLink = -1;
            var tiers = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var l in g.Links)
            {
                var intra = loads.IntraNodeBytes[l.Id];
                var net = loads.ScaleOutBytes[l.Id];
                if (intra == 0 && net == 0) continue;
                // Efficiency follows the transfer, not the link: a NIC-bound message is a network transfer on every hop.
                var seconds = intra / (l.BytesPerSecond * cost.IntraNodeCollectiveEfficiency)
                            + net / (l.BytesPerSecond * cost.ScaleOutCollectiveEfficiency);
                if (seconds > worst) { worst = seconds; worstLink = l.Id; }
                tiers[l.TierName] = tiers.GetValueOrDefault(l.TierName) + (intra + net) * unit * phase.BandwidthSteps * phase.Repeat;
            }
            for (var r = 0; r < perRank.Length; r++)
            {
                var t = loads.PerRank[r];
                var k = unit * phase.BandwidthSteps * phase.Repeat;
                perRank[r] = new TierBytes(perRank[r].SendIntraNode + t.SendIntraNode * k, perRank[r].SendScaleOut + t.SendScaleOut * k,
                    perRank[r].RecvIntraNode + t.RecvIntraNode * k, perRank[r].RecvScaleOut + t.RecvScaleOut * k);
            }
            phases.Add(new AnalysedPhase(phase, worst * unit, worstLink, loads.MaxIntraNodeLatencySeconds, loads.MaxScaleOutLatencySeconds, tiers));
        }
        return new AnalysedSchedule(schedule, phases, perRank);
    }

    /// <summary>Seconds of each phase for <paramref name="payloadBytes"/> on the wire under protocol <paramref name="p"/>.</summary>
    public double[] PhaseSeconds(ProtocolSpec p, CollectiveParameters cp, double payloadBytes)
    {
        var result = new double[Phases.Count];
        for (var i = 0; i < result.Length; i++)
        {
            var a = Phases[i];
            var ph = a.Phase;
            // A phase with no messages between nodes has no network latency to pay, and vice versa.
            var intraLat = a.IntraNodeLatencySeconds > 0 || a.ScaleOutLatencySeconds == 0 ? a.IntraNodeLatencySeconds : a.ScaleOutLatencySeconds;
            var netLat = a.ScaleOutLatencySeconds > 0 ? a.ScaleOutLatencySeconds : a.IntraNodeLatencySeconds;
            var latency = ph.IntraNodeSteps * (intraLat + p.StepSeconds(network: false))
                        + ph.NetworkSteps * (netLat + p.StepSeconds(network: true))
                        + ph.PeerMessages * cp.PeerMessageSeconds;
            var bandwidth = ph.BandwidthSteps * a.BottleneckSecondsPerByte * payloadBytes / p.BandwidthFraction;
            result[i] = ph.Repeat * (latency + bandwidth);
        }
        return result;
    }

    /// <summary>Bytes each rank sends and receives per tier for <paramref name="payloadBytes"/> (before wire compression).</summary>
    public TierBytes[] PerRankBytes(double payloadBytes) => _perRankPerByte
        .Take(Schedule.Communicator.Size)
        .Select(t => new TierBytes(t.SendIntraNode * payloadBytes, t.SendScaleOut * payloadBytes, t.RecvIntraNode * payloadBytes, t.RecvScaleOut * payloadBytes))
        .ToArray();

    /// <summary>Bytes crossing the links of each fine tier for <paramref name="payloadBytes"/>.</summary>
    public IReadOnlyDictionary<string, double> BytesPerTier(double payloadBytes)
    {
        var sum = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in Phases)
            foreach (var (tier, b) in p.BytesPerTierPerByte) sum[tier] = sum.GetValueOrDefault(tier) + b * payloadBytes;
        return sum;
    }
}
