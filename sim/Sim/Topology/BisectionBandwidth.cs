namespace Sim.Topology;

/// <summary>
/// Bisection bandwidth as a maximum flow: how many bytes per second the first half of the ranks can push,
/// all at once, to the second half, through links that may carry GPU-to-GPU traffic (CPUs do not relay).
/// For the builders' symmetric shapes the rank-order halves are the worst balanced cut. Dinic's algorithm on
/// flat arrays: a 2,048-GPU fabric takes milliseconds.
/// </summary>
internal static class BisectionBandwidth
{
    public static double BytesPerSecond(ClusterGraph g)
    {
        var n = g.WorldSize;
        if (n < 2) return 0;
        var half = n / 2;
        var source = g.Vertices.Count;
        var sink = source + 1;
        var flow = new MaxFlow(g.Vertices.Count + 2);
        foreach (var l in g.Links)
        {
            var from = g.Vertices[l.Source];
            // Links out of a non-relaying GPU only matter when that GPU is a sender (first half).
            var usable = g.Forwards(l.Source) || (from.Kind == VertexKind.Gpu && from.Rank < half);
            if (usable) flow.AddEdge(l.Source, l.Target, l.BytesPerSecond);
        }
        for (var r = 0; r < n; r++)
        {
            var v = g.VertexOfRank(r);
            if (r < half) flow.AddEdge(source, v, double.PositiveInfinity);
            else flow.AddEdge(v, sink, double.PositiveInfinity);
        }
        return flow.Compute(source, sink);
    }

    /// <summary>Dinic's maximum flow over double capacities (residual edges stored in pairs: e and e^1).</summary>
    private sealed class MaxFlow(int vertices)
    {
        private readonly List<int> _to = [];
        private readonly List<double> _cap = [];
        private readonly List<int>[] _adj = Enumerable.Range(0, vertices).Select(_ => new List<int>()).ToArray();
        private int[] _level = [];
        private int[] _next = [];

        public void AddEdge(int a, int b, double capacity)
        {
            _adj[a].Add(_to.Count); _to.Add(b); _cap.Add(capacity);
            _adj[b].Add(_to.Count); _to.Add(a); _cap.Add(0);
        }

        public double Compute(int s, int t)
        {
            _level = new int[_adj.Length];
            _next = new int[_adj.Length];
            double total = 0;
            while (Levels(s, t))
            {
                Array.Clear(_next);
                double pushed;
                while ((pushed = Push(s, t, double.PositiveInfinity)) > 0) total += pushed;
            }
            return total;
        }

        private bool Levels(int s, int t)
        {
            Array.Fill(_level, -1);
            var queue = new Queue<int>();
            _level[s] = 0;
            queue.Enqueue(s);
            while (queue.Count > 0)
            {
                var u = queue.Dequeue();
                foreach (var e in _adj[u])
                {
                    if (_cap[e] <= Epsilon || _level[_to[e]] >= 0) continue;
                    _level[_to[e]] = _level[u] + 1;
                    queue.Enqueue(_to[e]);
                }
            }
            return _level[t] >= 0;
        }

        // Depth is bounded by the level count (a few tens of hops), so recursion is safe.
        private double Push(int u, int t, double limit)
        {
            if (u == t) return limit;
            for (; _next[u] < _adj[u].Count; _next[u]++)
            {
                var e = _adj[u][_next[u]];
                var v = _to[e];
                if (_cap[e] <= Epsilon || _level[v] != _level[u] + 1) continue;
                var got = Push(v, t, Math.Min(limit, _cap[e]));
                if (got <= 0) continue;
                _cap[e] -= got;
                _cap[e ^ 1] += got;
                return got;
            }
            return 0;
        }

        // Residual capacities below a billionth of a byte per second are rounding, not bandwidth.
        private const double Epsilon = 1e-9;
    }
}
