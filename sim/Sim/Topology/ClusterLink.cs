using QuikGraph;

namespace Sim.Topology;

/// <summary>
/// One direction of a physical link in the cluster graph (a QuikGraph edge between vertex ids).
/// <see cref="ReverseId"/> is the other direction of the same cable, or -1 for a one-way link.
/// </summary>
public sealed class ClusterLink : IEdge<int>
{
    public int Id { get; }
    public int Source { get; }
    public int Target { get; }
    public double BytesPerSecond { get; }
    public double LatencySeconds { get; }
    public string TierName { get; }
    public LinkTier Tier { get; }
    public int ReverseId { get; internal set; } = -1;

    public ClusterLink(int id, int source, int target, double bytesPerSecond, double latencySeconds, string tierName)
    {
        if (!(bytesPerSecond > 0) || !double.IsFinite(bytesPerSecond))
            throw new ArgumentOutOfRangeException(nameof(bytesPerSecond), $"link {source}->{target} needs a positive finite bandwidth");
        if (!(latencySeconds >= 0)) throw new ArgumentOutOfRangeException(nameof(latencySeconds));
        Id = id; Source = source; Target = target;
        BytesPerSecond = bytesPerSecond; LatencySeconds = latencySeconds;
        TierName = tierName; Tier = TierNames.Coarse(tierName);
    }
}
