using Sim.Topology;
using Sim.Topology.Routing;

namespace Sim.Collectives;

/// <summary>
/// Bytes on every link during one phase. Each message is spread evenly over all its equal-cost paths, as
/// ECMP with many flows (NCCL opens several queue pairs per peer) does on average. Per sender, one
/// shortest-path search and one sweep back from the far end give every link's share for all of that
/// sender's messages at once: with X(v) = demand(v)/paths(s→v) + Σ X(w) over tight links v→w, the tight
/// link u→v carries paths(s→u)·X(v).
/// Messages between nodes and inside a node are kept apart, because the cost model prices them with
/// different achieved efficiencies (network versus NVLink transfers).
/// </summary>
internal sealed class LinkLoads
{
    /// <summary>Bytes per link from messages that stay inside a node.</summary>
    public double[] IntraNodeBytes { get; }
    /// <summary>Bytes per link from messages between nodes.</summary>
    public double[] ScaleOutBytes { get; }
    public double MaxIntraNodeLatencySeconds { get; private set; }
    public double MaxScaleOutLatencySeconds { get; private set; }
    /// <summary>Bytes each rank sends and receives, by coarse tier.</summary>
    public TierBytes[] PerRank { get; }

    private LinkLoads(int links, int world)
    {
        IntraNodeBytes = new double[links];
        ScaleOutBytes = new double[links];
        PerRank = new TierBytes[world];
    }

    public static LinkLoads Compute(ClusterGraph g, Traffic traffic, ShortestPathSearch? search = null)
    {
        search ??= new ShortestPathSearch(g);
        var c = g.Cluster;
        var loads = new LinkLoads(g.Links.Count, g.WorldSize);
        var n = g.Vertices.Count;
        var xIntra = new double[n];
        var xNet = new double[n];
        var messages = new List<(int Dst, double Bytes)>();
        var targets = new List<int>();
        var linkSource = g.LinkSource;

        foreach (var s in traffic.Senders)
        {
            messages.Clear();
            targets.Clear();
            traffic.MessagesFrom(s, messages);
            var sv = g.VertexOfRank(s);
            var sNode = c.NodeOf(s);
            foreach (var (dst, bytes) in messages)
            {
                if (dst == s || bytes <= 0) continue;
                var dv = g.VertexOfRank(dst);
                var sameNode = c.NodeOf(dst) == sNode;
                // Demand first sits in X at its destination; the sweep divides it by the path count there.
                if (sameNode) xIntra[dv] += bytes; else xNet[dv] += bytes;
                targets.Add(dv);
                loads.Count(s, dst, bytes, sameNode);
            }
            if (targets.Count == 0) continue;
            search.Run(sv, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(targets));

            foreach (var dv in targets)
            {
                if (!search.Reached(dv)) throw new InvalidOperationException($"no path from {g.Vertices[sv].Name} to {g.Vertices[dv].Name}");
                var lat = search.LatencySeconds(dv);
                if (c.NodeOf(g.Vertices[dv].Rank) == sNode) loads.MaxIntraNodeLatencySeconds = Math.Max(loads.MaxIntraNodeLatencySeconds, lat);
                else loads.MaxScaleOutLatencySeconds = Math.Max(loads.MaxScaleOutLatencySeconds, lat);
            }

            // Far end first: by the time v is reached, every vertex after it has pushed its X into v.
            var order = search.VisitOrder;
            for (var i = order.Length - 1; i > 0; i--)
            {
                var v = order[i];
                var xi = xIntra[v];
                var xn = xNet[v];
                if (xi == 0 && xn == 0) continue;
                var paths = search.Paths(v);
                // Own demand (already in X) is split over the paths reaching v; what flows through was pushed per path already.
                for (var k = search.PredHead(v); k >= 0; k = search.PredNext(k))
                {
                    var e = search.PredLink(k);
                    var u = linkSource[e];
                    var share = search.Paths(u) / paths;
                    loads.IntraNodeBytes[e] += xi * share;
                    loads.ScaleOutBytes[e] += xn * share;
                    if (u != sv) { xIntra[u] += xi * share; xNet[u] += xn * share; }
                }
            }
            foreach (var v in order) { xIntra[v] = 0; xNet[v] = 0; }
        }
        return loads;
    }

    private void Count(int src, int dst, double bytes, bool sameNode)
    {
        var s = PerRank[src];
        var d = PerRank[dst];
        PerRank[src] = sameNode ? s with { SendIntraNode = s.SendIntraNode + bytes } : s with { SendScaleOut = s.SendScaleOut + bytes };
        PerRank[dst] = sameNode ? d with { RecvIntraNode = d.RecvIntraNode + bytes } : d with { RecvScaleOut = d.RecvScaleOut + bytes };
    }
}
