namespace Sim.Topology;

/// <summary>One direction of a physical link: what the flow-level engine shares between flows.</summary>
public sealed record NetworkLink(int Id, string From, string To, LinkTier Tier, double BytesPerSecond, double LatencySeconds)
{
    /// <summary>The fine tier (nvlink, pcie, nic, leaf, spine; see <see cref="TierNames"/>).</summary>
    public string TierName { get; init; } = Tier == LinkTier.ScaleOut ? TierNames.Nic : TierNames.NvLink;
}
