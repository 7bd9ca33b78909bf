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
        int nodes = cluster.Nodes, g = cluster.GpusPerNode;
        var nodeTo = new double[nodes];
        var nodeFrom = new double[nodes];
        for (int n = 0, r = 0; n < nodes; n++)
            for (var local = 0; local < g; local++, r++)
            {
                sumTo += ToEachPeer[r]; sumFrom += FromEachPeer[r];
                nodeTo[n] += ToEachPeer[r];
                nodeFrom[n] += FromEachPeer[r];
            }
        return new TierSums(ToEachPeer, FromEachPeer, World, g, sumTo, sumFrom, nodeTo, nodeFrom);
    }

    /// <summary>What every rank's <see cref="TierBytes"/> follow from: the vectors, and the totals per node and overall.</summary>
    public readonly struct TierSums
    {
        private readonly double[] _to, _from, _nodeTo, _nodeFrom;
        private readonly int _world, _gpusPerNode;
        private readonly double _sumTo, _sumFrom;

        internal TierSums(double[] to, double[] from, int world, int gpusPerNode, double sumTo, double sumFrom, double[] nodeTo, double[] nodeFrom)
        {
            (_to, _from, _world, _gpusPerNode, _sumTo, _sumFrom, _nodeTo, _nodeFrom) = (to, from, world, gpusPerNode, sumTo, sumFrom, nodeTo, nodeFrom);
        }

        public TierBytes Of(int r) => Of(r, r / _gpusPerNode);

        internal ReadOnlySpan<double> To => _to;
        internal ReadOnlySpan<double> From => _from;
        internal double NodeTo(int n) => _nodeTo[n];
        internal double NodeFrom(int n) => _nodeFrom[n];
        internal double SumTo => _sumTo;
        internal double SumFrom => _sumFrom;

        /// <summary>Rank <paramref name="r"/>'s bytes, given its node <paramref name="n"/> (loops over nodes skip the division).</summary>
        public TierBytes Of(int r, int n)
        {
            int w = _world, g = _gpusPerNode;
            double to = _to[r], from = _from[r];
            // r sends ToEachPeer[r] to each peer, plus FromEachPeer[o] to each other owner o.
            var sendIntra = to * (g - 1) + (_nodeFrom[n] - from);
            var sendInter = to * (w - g) + (_sumFrom - _nodeFrom[n]);
            var recvIntra = from * (g - 1) + (_nodeTo[n] - to);
            var recvInter = from * (w - g) + (_sumTo - _nodeTo[n]);
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
