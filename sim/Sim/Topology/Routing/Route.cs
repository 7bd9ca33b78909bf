namespace Sim.Topology.Routing;

/// <summary>
/// The path a message takes between two GPUs: link ids in order, its latency, and how many equal-cost
/// (fewest hops, then least latency) paths ECMP had to choose from.
/// </summary>
internal sealed record Route(int[] LinkIds, double LatencySeconds, double EqualCostPaths)
{
    public int Hops => LinkIds.Length;
    public static readonly Route Local = new([], 0, 1);
}
