using Sim.Topology;

namespace Sim.Collectives;

/// <summary>
/// An uneven all-to-all in the shape sharded embeddings produce: each rank o sends
/// <see cref="ToEachPeer"/>[o] bytes to every rank (pooled outputs of the shards it owns) and receives
/// <see cref="FromEachPeer"/>[o] bytes from every rank (indices or gradients for those shards).
/// Stored as O(W) vectors, not a W x W matrix, so that 16k-GPU clusters stay cheap; a rank's message to
/// itself is local and never touches a link.
/// </summary>
public sealed class AllToAllDemand : IAllToAllSplits
{
    public int World { get; }
    public double[] ToEachPeer { get; }
    public double[] FromEachPeer { get; }

    public AllToAllDemand(int world)
    {
        World = world;
        ToEachPeer = new double[world];
        FromEachPeer = new double[world];
    }

    /// <summary>Bytes rank <paramref name="src"/> sends to rank <paramref name="dst"/> (the matrix entry).</summary>
    public double Bytes(int src, int dst) => ToEachPeer[src] + FromEachPeer[dst];

    /// <summary>The reverse exchange (backward gradients of forward outputs), scaled by a dtype ratio.</summary>
    public AllToAllDemand Transposed(double scale = 1.0)
    {
        var t = new AllToAllDemand(World);
        for (var r = 0; r < World; r++)
        {
            t.FromEachPeer[r] = ToEachPeer[r] * scale;
            t.ToEachPeer[r] = FromEachPeer[r] * scale;
        }
        return t;
    }

    /// <summary>The same exchange with every message scaled (elements to bytes, or a precision change).</summary>
    public AllToAllDemand Scaled(double scale)
    {
        var t = new AllToAllDemand(World);
        for (var r = 0; r < World; r++)
        {
            t.ToEachPeer[r] = ToEachPeer[r] * scale;
            t.FromEachPeer[r] = FromEachPeer[r] * scale;
        }
        return t;
    }

    /// <summary>Per group of ranks (<paramref name="groupOf"/>), the sums of <see cref="ToEachPeer"/> and <see cref="FromEachPeer"/>.</summary>
    public (double[] To, double[] From) SumsBy(int groups, Func<int, int> groupOf)
    {
        var to = new double[groups];
        var from = new double[groups];
        for (var r = 0; r < World; r++) { to[groupOf(r)] += ToEachPeer[r]; from[groupOf(r)] += FromEachPeer[r]; }
        return (to, from);
    }

    /// <summary>Total bytes crossing links (every message except each rank's message to itself).</summary>
    public double NetworkBytes()
    {
        double to = 0, from = 0;
        foreach (var v in ToEachPeer) to += v;
        foreach (var v in FromEachPeer) from += v;
        return (to + from) * (World - 1);
    }

    public bool IsEmpty => !ToEachPeer.AsSpan().ContainsAnyExcept(0.0) && !FromEachPeer.AsSpan().ContainsAnyExcept(0.0);

    /// <summary>Per rank, bytes sent and received over each tier (excluding the local message).</summary>
    public TierBytes[] PerRank(Cluster cluster)
    {
        var sums = Tiers(cluster);
        var result = new TierBytes[World];
        for (var r = 0; r < result.Length; r++) result[r] = sums.Of(r);
        return result;
    }

    /// <summary>The per-node sums from which any rank's <see cref="TierBytes"/> follow in O(1) (no per-rank array).</summary>
    public TierSums Tiers(Cluster cluster)
    {
        double sumTo = 0, sumFrom = 0;
        var nodeTo = new double[cluster.Nodes];
        var nodeFrom = new double[cluster.Nodes];
        for (var r = 0; r < World; r++)
        {
            sumTo += ToEachPeer[r]; sumFrom += FromEachPeer[r];
            nodeTo[cluster.NodeOf(r)] += ToEachPeer[r];
            nodeFrom[cluster.NodeOf(r)] += FromEachPeer[r];
        }
        return new TierSums(this, cluster, sumTo, sumFrom, nodeTo, nodeFrom);
    }

    public readonly struct TierSums(AllToAllDemand d, Cluster cluster, double sumTo, double sumFrom, double[] nodeTo, double[] nodeFrom)
    {
        public TierBytes Of(int r) => Of(r, cluster.NodeOf(r));

        /// <summary>Rank <paramref name="r"/>'s bytes, given its node <paramref name="n"/> (loops over nodes skip the division).</summary>
        public TierBytes Of(int r, int n)
        {
            int w = d.World, g = cluster.GpusPerNode;
            // r sends ToEachPeer[r] to each peer, plus FromEachPeer[o] to each other owner o.
            var sendIntra = d.ToEachPeer[r] * (g - 1) + (nodeFrom[n] - d.FromEachPeer[r]);
            var sendInter = d.ToEachPeer[r] * (w - g) + (sumFrom - nodeFrom[n]);
            var recvIntra = d.FromEachPeer[r] * (g - 1) + (nodeTo[n] - d.ToEachPeer[r]);
            var recvInter = d.FromEachPeer[r] * (w - g) + (sumTo - nodeTo[n]);
            return new TierBytes(sendIntra, sendInter, recvIntra, recvInter);
        }
    }
}

/// <summary>Bytes a rank moves over the intra-node fabric and the scale-out network, each direction.</summary>
public readonly record struct TierBytes(double SendIntraNode, double SendScaleOut, double RecvIntraNode, double RecvScaleOut)
{
    public double Sent => SendIntraNode + SendScaleOut;
    public double Received => RecvIntraNode + RecvScaleOut;
}
