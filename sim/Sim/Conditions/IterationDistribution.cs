using Sim.Iterations;

namespace Sim.Conditions;

/// <summary>
/// Iteration times over the simulated iterations (one per jitter draw; one when nothing is random), their percentiles
/// (nearest rank), and the rank that set the pace most often: the rank with the most compute time on each iteration's
/// critical path.
/// </summary>
public sealed record IterationDistribution(IReadOnlyList<double> Seconds, int PacingRank, double PacingShare)
{
    /// <summary>The pacing rank in words (GPU, node, local index).</summary>
    public string PacingWhere { get; init; } = PacingRank >= 0 ? $"GPU {PacingRank}" : "none";

    /// <summary>The seed the jitter was drawn with (recorded even without jitter, for the record).</summary>
    public ulong Seed { get; init; }

    public double P50 => Percentile(0.50);
    public double P90 => Percentile(0.90);
    public double P99 => Percentile(0.99);
    public double Mean => Seconds.Average();
    public double Min => Seconds.Min();
    public double Max => Seconds.Max();

    /// <summary>Nearest-rank percentile: the smallest sample with at least <paramref name="q"/> of the samples at or below it.</summary>
    public double Percentile(double q)
    {
        var sorted = Seconds.Order().ToArray();
        var k = (int)Math.Ceiling(q * sorted.Length) - 1;
        return sorted[Math.Clamp(k, 0, sorted.Length - 1)];
    }

    /// <summary>The rank with the most compute seconds on a critical path (ties: the lowest rank; -1 when no compute is on it).</summary>
    public static int PacingRankOf(IReadOnlyList<PathSegment> path)
    {
        var byRank = new SortedDictionary<int, double>();
        foreach (var s in path)
            if (!s.IsCommunication && s.Rank >= 0) byRank[s.Rank] = byRank.GetValueOrDefault(s.Rank) + s.Seconds;
        var best = -1;
        foreach (var (rank, seconds) in byRank)
            if (best < 0 || seconds > byRank[best]) best = rank;
        return best;
    }

    /// <summary>From per-iteration times and pacing ranks: the most frequent pacing rank (ties: the lowest) and its share.</summary>
    public static IterationDistribution Of(IReadOnlyList<double> seconds, IReadOnlyList<int> pacing)
    {
        var counts = pacing.GroupBy(r => r).Select(g => (Rank: g.Key, Count: g.Count())).OrderByDescending(x => x.Count).ThenBy(x => x.Rank).First();
        return new IterationDistribution(seconds, counts.Rank, (double)counts.Count / pacing.Count);
    }
}
