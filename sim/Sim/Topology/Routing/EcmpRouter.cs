namespace Sim.Topology.Routing;

/// <summary>
/// Routes between GPUs: a shortest path (fewest hops, then least latency), and among equal-cost paths the
/// one a hash of (source, destination) picks, walking back from the destination and choosing each
/// predecessor in proportion to the paths through it, so that every equal-cost path is equally likely over
/// many pairs. The choice depends only on the pair, never on call order or caching.
/// Routes are cached per pair (an engine asks for the same ring neighbours step after step). A first miss
/// for a source runs a search that stops at the destination's level; a second miss for the same source
/// means it is sending to many peers (an all-to-all), so a whole-graph search is kept for it.
/// </summary>
internal sealed class EcmpRouter
{
    /// <summary>Pair routes kept before the cache is emptied and refilled (bounds memory at 16k GPUs).</summary>
    public const int PairCacheLimit = 1 << 20;

    private readonly ClusterGraph _g;
    private readonly int _cacheSize;
    private readonly LinkedList<ShortestPathSearch> _cache = new();
    private readonly Dictionary<long, Route> _pairs = [];
    private readonly HashSet<int> _missedOnce = [];
    private readonly ShortestPathSearch _targeted;
    private readonly int[] _target = new int[1];
    private readonly Lock _lock = new();

    public EcmpRouter(ClusterGraph graph, int cacheSize = 16)
    {
        _g = graph;
        _cacheSize = Math.Max(1, cacheSize);
        _targeted = new ShortestPathSearch(graph);
    }

    public Route Route(int srcRank, int dstRank)
    {
        if (srcRank == dstRank) return Sim.Topology.Routing.Route.Local;
        var src = _g.VertexOfRank(srcRank);
        var dst = _g.VertexOfRank(dstRank);
        var key = ((long)srcRank << 32) | (uint)dstRank;
        lock (_lock)
        {
            if (_pairs.TryGetValue(key, out var hit)) return hit;
            var s = Cached(src);
            if (s is null && _missedOnce.Add(src))
            {
                _target[0] = dst;
                _targeted.Run(src, _target);
                s = _targeted;
            }
            s ??= SearchFrom(src);
            if (!s.Reached(dst))
                throw new InvalidOperationException($"no path from {_g.Vertices[src].Name} to {_g.Vertices[dst].Name}");
            var route = new Route(Extract(s, dst, Hash(srcRank, dstRank)), s.LatencySeconds(dst), s.Paths(dst));
            if (_pairs.Count >= PairCacheLimit) _pairs.Clear();
            _pairs[key] = route;
            return route;
        }
    }

    private ShortestPathSearch? Cached(int src)
    {
        for (var n = _cache.First; n is not null; n = n.Next)
        {
            if (n.Value.Source != src) continue;
            _cache.Remove(n);
            _cache.AddFirst(n);
            return n.Value;
        }
        return null;
    }

    private ShortestPathSearch SearchFrom(int src)
    {
        ShortestPathSearch s;
        if (_cache.Count >= _cacheSize)
        {
            s = _cache.Last!.Value;
            _cache.RemoveLast();
        }
        else s = new ShortestPathSearch(_g);
        s.Run(src);
        _cache.AddFirst(s);
        return s;
    }

    /// <summary>Walks back from <paramref name="dst"/>, at each vertex picking a tight in-link by the pair's hash.</summary>
    internal static int[] Extract(ShortestPathSearch s, int dst, ulong hash)
    {
        var g = s.Graph;
        var source = g.LinkSource;
        var route = new int[s.Hops(dst)];
        var v = dst;
        for (var step = route.Length - 1; step >= 0; step--)
        {
            double total = 0;
            for (var k = s.PredHead(v); k >= 0; k = s.PredNext(k)) total += s.Paths(source[s.PredLink(k)]);
            hash = Mix(hash + (ulong)step);
            var pick = (hash >> 11) * (1.0 / (1UL << 53)) * total;
            var chosen = -1;
            for (var k = s.PredHead(v); k >= 0; k = s.PredNext(k))
            {
                chosen = s.PredLink(k);
                pick -= s.Paths(source[chosen]);
                if (pick < 0) break;
            }
            route[step] = chosen;
            v = source[chosen];
        }
        return route;
    }

    internal static ulong Hash(int src, int dst) => Mix(((ulong)(uint)src << 32) | (uint)dst);

    /// <summary>SplitMix64 finaliser: a cheap, well-spread deterministic hash.</summary>
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
