namespace Sim.Topology;

/// <summary>
/// The links of a cluster and the route between any two GPUs (a list of link ids, each used once).
/// The event engine turns every message into a flow over its route.
/// </summary>
public interface INetwork
{
    IReadOnlyList<NetworkLink> Links { get; }
    IReadOnlyList<int> Route(int srcRank, int dstRank);
}
