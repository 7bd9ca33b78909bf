namespace Sim.Topology.Routing;

/// <summary>
/// Breadth-first search from one vertex that ranks paths by fewest hops, then lowest latency, and counts
/// how many equally good paths reach each vertex. Only forwarding vertices (and the source) are expanded,
/// so a GPU-to-GPU path never passes through a CPU or a non-relaying GPU. A shortest path visits no vertex
/// twice, so it uses no link twice.
/// Along the way it keeps, per vertex, the links that end a shortest path there ("tight" in-links), so that
/// routes and per-link loads walk only those. Arrays are reused between runs (an epoch stamp marks what the
/// current run touched): a search object allocates once for its whole life.
/// </summary>
internal sealed class ShortestPathSearch
{
    private readonly ClusterGraph _g;
    private readonly int[] _hops;
    private readonly double[] _latency;
    private readonly double[] _paths;
    private readonly int[] _stamp;
    private readonly int[] _targetStamp;
    private readonly int[] _order;
    // Tight in-links as singly linked lists: _predHead[v] → entry k → (_predLink[k], _predNext[k]).
    private readonly int[] _predHead;
    private readonly int[] _predNext;
    private readonly int[] _predLink;
    private int _predCount;
    private int _epoch;
    private int _count;

    public ClusterGraph Graph => _g;
    public int Source { get; private set; } = -1;

    public ShortestPathSearch(ClusterGraph graph)
    {
        _g = graph;
        var n = graph.Vertices.Count;
        _hops = new int[n];
        _latency = new double[n];
        _paths = new double[n];
        _stamp = new int[n];
        _targetStamp = new int[n];
        _order = new int[n];
        _predHead = new int[n];
        _predNext = new int[graph.Links.Count];
        _predLink = new int[graph.Links.Count];
    }

    /// <summary>
    /// Searches from <paramref name="source"/>. With <paramref name="targets"/>, stops once every target's
    /// level is final (much cheaper for nearby targets); without, covers the whole graph.
    /// </summary>
    public void Run(int source, ReadOnlySpan<int> targets = default)
    {
        _epoch++;
        Source = source;
        var remaining = 0;
        foreach (var t in targets)
            if (_targetStamp[t] != _epoch && t != source) { _targetStamp[t] = _epoch; remaining++; }
        var limit = targets.Length > 0 && remaining == 0 ? 0 : int.MaxValue;

        _count = 0;
        _predCount = 0;
        Visit(source, 0, 0, 1);
        var outStart = _g.OutStart;
        var outIds = _g.OutIds;
        var target = _g.LinkTarget;
        var linkLatency = _g.LinkLatency;
        for (var head = 0; head < _count; head++)
        {
            var u = _order[head];
            var h = _hops[u];
            if (h >= limit) break;
            if (u != source && !_g.Forwards(u)) continue;
            var latU = _latency[u];
            var pathsU = _paths[u];
            for (var i = outStart[u]; i < outStart[u + 1]; i++)
            {
                var e = outIds[i];
                var v = target[e];
                var lat = latU + linkLatency[e];
                if (_stamp[v] != _epoch)
                {
                    Visit(v, h + 1, lat, pathsU);
                    _predHead[v] = -1;
                    AddPred(v, e);
                    if (_targetStamp[v] == _epoch && --remaining == 0) limit = h + 1;
                }
                else if (_hops[v] == h + 1)
                {
                    if (Close(lat, _latency[v])) { _paths[v] += pathsU; AddPred(v, e); }
                    else if (lat < _latency[v]) { _latency[v] = lat; _paths[v] = pathsU; _predHead[v] = -1; AddPred(v, e); }
                }
            }
        }
    }

    private void Visit(int v, int hops, double latency, double paths)
    {
        _stamp[v] = _epoch;
        _hops[v] = hops;
        _latency[v] = latency;
        _paths[v] = paths;
        _predHead[v] = -1;
        _order[_count++] = v;
    }

    private void AddPred(int v, int link)
    {
        var k = _predCount++;
        _predLink[k] = link;
        _predNext[k] = _predHead[v];
        _predHead[v] = k;
    }

    /// <summary>Latencies are sums of the same few numbers in different orders: compare with a relative tolerance.</summary>
    internal static bool Close(double a, double b) => Math.Abs(a - b) <= 1e-9 * Math.Max(Math.Abs(a), Math.Abs(b)) + 1e-18;

    public bool Reached(int v) => _stamp[v] == _epoch;
    public int Hops(int v) => Reached(v) ? _hops[v] : throw Unreached(v);
    public double LatencySeconds(int v) => Reached(v) ? _latency[v] : throw Unreached(v);
    /// <summary>How many shortest paths (fewest hops, then least latency) lead from the source to <paramref name="v"/>.</summary>
    public double Paths(int v) => Reached(v) ? _paths[v] : 0;

    /// <summary>Vertices in the order reached (non-decreasing hops): reverse it to sweep from the far end back.</summary>
    public ReadOnlySpan<int> VisitOrder => _order.AsSpan(0, _count);

    /// <summary>The links that end a shortest path at <paramref name="v"/>.</summary>
    public IEnumerable<int> TightInLinks(int v)
    {
        if (!Reached(v)) yield break;
        for (var k = _predHead[v]; k >= 0; k = _predNext[k]) yield return _predLink[k];
    }

    // Allocation-free access for the hot loops (routes, link loads).
    internal int PredHead(int v) => _predHead[v];
    internal int PredNext(int k) => _predNext[k];
    internal int PredLink(int k) => _predLink[k];

    /// <summary>Whether link <paramref name="e"/> lies on some shortest path from the source.</summary>
    public bool IsTight(ClusterLink e)
    {
        foreach (var l in TightInLinks(e.Target))
            if (l == e.Id) return true;
        return false;
    }

    private InvalidOperationException Unreached(int v) =>
        new($"{_g.Vertices[v].Name} is not reachable from {_g.Vertices[Source].Name} in the search just run");
}
