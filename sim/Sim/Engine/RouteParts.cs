using Sim.Topology;

namespace Sim.Engine;

/// <summary>
/// A route between nodes split at its NIC links: the sender's port (up to and including its NIC's link into the
/// fabric), the fabric core between, and the receiver's port (from the link into its NIC on). On the flat network
/// a route is just the two NIC links.
/// </summary>
internal static class RouteParts
{
    public static IReadOnlyList<int> Send(IReadOnlyList<int> route, IReadOnlyList<NetworkLink> links) =>
        FirstNic(route, links) is var i and >= 0 ? Slice(route, 0, i + 1) : route;

    public static IReadOnlyList<int> Receive(IReadOnlyList<int> route, IReadOnlyList<NetworkLink> links) =>
        LastNic(route, links) is var i and >= 0 ? Slice(route, i, route.Count) : route;

    /// <summary>Both ports, without the core.</summary>
    public static IReadOnlyList<int> Ports(IReadOnlyList<int> route, IReadOnlyList<NetworkLink> links)
    {
        int first = FirstNic(route, links), last = LastNic(route, links);
        return first < 0 || first >= last ? route : [.. Slice(route, 0, first + 1), .. Slice(route, last, route.Count)];
    }

    /// <summary>The links between the two NIC links (none when both NICs hang off one switch).</summary>
    public static IReadOnlyList<int> Core(IReadOnlyList<int> route, IReadOnlyList<NetworkLink> links)
    {
        int first = FirstNic(route, links), last = LastNic(route, links);
        return first < 0 || first >= last ? route : Slice(route, first + 1, last);
    }

    private static int FirstNic(IReadOnlyList<int> route, IReadOnlyList<NetworkLink> links)
    {
        for (var i = 0; i < route.Count; i++) if (links[route[i]].TierName == TierNames.Nic) return i;
        return -1;
    }

    private static int LastNic(IReadOnlyList<int> route, IReadOnlyList<NetworkLink> links)
    {
        for (var i = route.Count - 1; i >= 0; i--) if (links[route[i]].TierName == TierNames.Nic) return i;
        return -1;
    }

    private static int[] Slice(IReadOnlyList<int> route, int from, int to)
    {
        var a = new int[to - from];
        for (var i = from; i < to; i++) a[i - from] = route[i];
        return a;
    }
}
