using System.Numerics;
using Sim.Cost;
using Sim.Topology;

namespace Sim.Collectives;

/// <summary>
/// Closed-form collective times: per tier, latency plus bytes over the achieved bandwidth of that tier. Tiers run
/// concurrently (NVLink and the NIC are separate links). On a tapered fabric the scale-out part also waits for the
/// uplinks of the GPU's leaf and pod (<see cref="FabricBottleneck"/>).
/// </summary>
internal static class CollectiveModel
{
    /// <summary>Time for one tier: fixed latency when any bytes cross it, plus the busier direction's bytes over its achieved rate.</summary>
    private static double TierSeconds(double latencySeconds, double bytesPerSecond, double sendBytes, double recvBytes) =>
        Math.Max(sendBytes, recvBytes) is var bytes && bytes > 0 ? latencySeconds + bytes / bytesPerSecond : 0;

    public static double Efficiency(CostParameters p, LinkTier tier) =>
        tier == LinkTier.ScaleOut ? p.ScaleOutCollectiveEfficiency : p.IntraNodeCollectiveEfficiency;

    private readonly record struct TierRate(double LatencySeconds, double BytesPerSecond);

    /// <summary>
    /// The per-rank loop below for <see cref="Vector{T}.Count"/> ranks of node <paramref name="n"/> from rank <paramref name="r"/>
    /// at once: the same operations in the same order, so every rank's seconds are exactly the scalar ones.
    /// </summary>
    private static Vector<double> Ranks(AllToAllDemand.TierSums t, int n, int r, int g, int w, TierRate intraRate, TierRate? interRate, double overhead)
    {
        var to = new Vector<double>(t.To[r..]);
        var from = new Vector<double>(t.From[r..]);
        var intra = TierSeconds(intraRate, Vector.Max(
            to * (double)(g - 1) + (new Vector<double>(t.NodeFrom(n)) - from),
            from * (double)(g - 1) + (new Vector<double>(t.NodeTo(n)) - to)));
        var inter = interRate is { } rate
            ? TierSeconds(rate, Vector.Max(to * (double)(w - g) + new Vector<double>(t.SumFrom - t.NodeFrom(n)), from * (double)(w - g) + new Vector<double>(t.SumTo - t.NodeTo(n))))
            : Vector<double>.Zero;
        return Vector.Max(intra, inter) + new Vector<double>(overhead);
    }

    private static Vector<double> TierSeconds(TierRate rate, Vector<double> bytes) =>
        Vector.ConditionalSelect(Vector.GreaterThan(bytes, Vector<double>.Zero),
            new Vector<double>(rate.LatencySeconds) + bytes / new Vector<double>(rate.BytesPerSecond), Vector<double>.Zero);

    /// <summary>Per-rank all-to-all time: each rank's tiers in parallel; the slowest rank sets the collective.</summary>
    public static double[] AllToAllPerRank(Cluster c, CostParameters p, AllToAllDemand demand)
    {
        var tiers = demand.Tiers(c);
        var times = new double[demand.World];
        if (c.WorldSize == 1 || demand.IsEmpty) return times;
        var uplinks = FabricBottleneck.For(c)?.AllToAllSeconds(demand, Efficiency(p, LinkTier.ScaleOut));
        // The link figures are read once (this runs for every all-to-all of every sweep row).
        double intraLatency = c.IntraNode.LatencySeconds, intraRate = c.IntraNode.BytesPerSecond * Efficiency(p, LinkTier.IntraNode);
        double interLatency = c.ScaleOut.LatencySeconds, interRate = c.ScaleOut.BytesPerSecond * Efficiency(p, LinkTier.ScaleOut);
        var (multiNode, overhead, g) = (c.Nodes > 1, p.CollectiveOverheadSeconds, c.GpusPerNode);
        for (int n = 0, r = 0; n < c.Nodes; n++)
        {
            var local = 0;
            if (uplinks is null)
                for (; local <= g - Vector<double>.Count && Vector.IsHardwareAccelerated; local += Vector<double>.Count, r += Vector<double>.Count)
                    Ranks(tiers, n, r, g, demand.World, new TierRate(intraLatency, intraRate), multiNode ? new TierRate(interLatency, interRate) : null, overhead).CopyTo(times.AsSpan(r));
            for (; local < g; local++, r++)
            {
                var t = tiers.Of(r, n);
                var intra = TierSeconds(intraLatency, intraRate, t.SendIntraNode, t.RecvIntraNode);
                var inter = multiNode ? TierSeconds(interLatency, interRate, t.SendScaleOut, t.RecvScaleOut) : 0;
                if (uplinks is not null && uplinks[r] > 0) inter = Math.Max(inter, interLatency + uplinks[r]);
                times[r] = Math.Max(intra, inter) + overhead;
            }
        }
        return times;
    }

    public static double AllToAllSeconds(Cluster c, CostParameters p, AllToAllDemand demand) =>
        AllToAllPerRank(c, p, demand).DefaultIfEmpty(0).Max();

    /// <summary>
    /// All-reduce of <paramref name="bytes"/> on every rank. One node: ring, 2(n-1)/n·S/B + 2(n-1)·α.
    /// Several nodes: hierarchical, intra-node reduce-scatter, G parallel inter-node rings on S/G, then
    /// intra-node all-gather. One GPU per node: a ring over the NICs.
    /// </summary>
    public static double AllReduceSeconds(Cluster c, CostParameters p, double bytes)
    {
        var n = c.WorldSize;
        if (n == 1 || bytes <= 0) return 0;
        var g = c.GpusPerNode;
        var nodes = c.Nodes;
        double t;
        if (nodes == 1)
            t = Ring(c, p, LinkTier.IntraNode, bytes, g, 2);
        else if (g == 1)
            t = Ring(c, p, LinkTier.ScaleOut, bytes, nodes, 2, RingBytesPerSecond(c));
        else
            t = 2 * Ring(c, p, LinkTier.IntraNode, bytes, g, 1) + Ring(c, p, LinkTier.ScaleOut, bytes / g, nodes, 2, RingBytesPerSecond(c));
        return t + p.CollectiveOverheadSeconds;
    }

    /// <summary>
    /// A ring pass over <paramref name="ranks"/> ranks: <paramref name="passes"/> = 1 for reduce-scatter or
    /// all-gather, 2 for all-reduce: passes·(n-1)/n·S/B + passes·(n-1)·α.
    /// </summary>
    /// <param name="bytesPerSecond">the ring's bandwidth when not the tier's (a tapered fabric's).</param>
    public static double Ring(Cluster c, CostParameters p, LinkTier tier, double bytes, int ranks, int passes, double? bytesPerSecond = null)
    {
        if (ranks <= 1 || bytes <= 0) return 0;
        var link = c.Link(tier);
        var steps = passes * (ranks - 1);
        return steps * link.LatencySeconds + steps * (bytes / ranks) / ((bytesPerSecond ?? link.BytesPerSecond) * Efficiency(p, tier));
    }

    /// <summary>An inter-node ring's bandwidth per NIC: the NIC's, or less where it crosses tapered uplinks.</summary>
    private static double RingBytesPerSecond(Cluster c) =>
        Math.Min(c.ScaleOut.BytesPerSecond, FabricBottleneck.For(c)?.RingBytesPerSecond ?? double.PositiveInfinity);
}
