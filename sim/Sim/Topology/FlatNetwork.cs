namespace Sim.Topology;

/// <summary>
/// The first-version network: every GPU has an NVLink port (to a non-blocking NVSwitch) and a NIC port
/// (to a non-blocking scale-out fabric), each a pair of one-way links. A message inside a node crosses
/// the sender's NVLink out and the receiver's NVLink in; across nodes, the two NICs. Contention therefore
/// happens only at the GPUs' ports, which is what an all-to-all on a full-bisection fabric sees.
/// </summary>
internal sealed class FlatNetwork : INetwork
{
    private readonly Cluster _c;
    private readonly NetworkLink[] _links;

    public FlatNetwork(Cluster c)
    {
        _c = c;
        var n = c.WorldSize;
        _links = new NetworkLink[4 * n];
        for (var r = 0; r < n; r++)
        {
            _links[4 * r + 0] = new NetworkLink(4 * r + 0, $"gpu{r}", "nvswitch", LinkTier.IntraNode, c.IntraNode.BytesPerSecond, c.IntraNode.LatencySeconds);
            _links[4 * r + 1] = new NetworkLink(4 * r + 1, "nvswitch", $"gpu{r}", LinkTier.IntraNode, c.IntraNode.BytesPerSecond, 0);
            _links[4 * r + 2] = new NetworkLink(4 * r + 2, $"gpu{r}", "fabric", LinkTier.ScaleOut, c.ScaleOut.BytesPerSecond, c.ScaleOut.LatencySeconds);
            _links[4 * r + 3] = new NetworkLink(4 * r + 3, "fabric", $"gpu{r}", LinkTier.ScaleOut, c.ScaleOut.BytesPerSecond, 0);
        }
    }

    public IReadOnlyList<NetworkLink> Links => _links;

    public IReadOnlyList<int> Route(int srcRank, int dstRank) => _c.Tier(srcRank, dstRank) switch
    {
        LinkTier.Local => [],
        LinkTier.IntraNode => [4 * srcRank, 4 * dstRank + 1],
        _ => [4 * srcRank + 2, 4 * dstRank + 3],
    };
}
