namespace Sim.Cost.Operators;

/// <summary>One measured GEMM: C[m,n] = A[m,k]·B[k,n] in a dtype, median device seconds.</summary>
public sealed record GemmPoint(double M, double K, double N, string Dtype, double Seconds)
{
    public double Flops => 2 * M * K * N;
}

/// <summary>
/// GEMM time by shape from a measured grid (issue 14: "efficiency by shape, not one fraction of peak"): the achieved
/// FLOP/s of the nearest measured shapes (log-space distance in m, k, n; inverse-distance weights over the four
/// nearest, exact on a measured shape), interpolated in log space, never faster than the fastest measured call.
/// </summary>
internal sealed class GemmGrid
{
    private readonly Dictionary<string, GemmPoint[]> _byDtype;
    private readonly Dictionary<string, double> _floorSeconds;

    public IReadOnlyList<GemmPoint> Points { get; }

    public GemmGrid(IReadOnlyList<GemmPoint> points)
    {
        Points = points;
        _byDtype = points.GroupBy(p => p.Dtype).ToDictionary(g => g.Key, g => g.ToArray());
        _floorSeconds = _byDtype.ToDictionary(kv => kv.Key, kv => kv.Value.Min(p => p.Seconds));
    }

    public bool Has(string dtype) => _byDtype.ContainsKey(dtype);

    /// <summary>Seconds for an m×k by k×n product, or null when the grid has no point of this dtype.</summary>
    public double? Seconds(double m, double k, double n, string dtype)
    {
        if (!_byDtype.TryGetValue(dtype, out var pts) || m <= 0 || k <= 0 || n <= 0) return null;
        var flops = 2 * m * k * n;
        double lm = Math.Log2(m), lk = Math.Log2(k), ln = Math.Log2(n);
        // The four nearest points in log space (a small fixed-size insertion list: no allocation per call beyond it).
        Span<double> dist = stackalloc double[4];
        Span<int> idx = stackalloc int[4];
        dist.Fill(double.PositiveInfinity); idx.Fill(-1);
        for (var i = 0; i < pts.Length; i++)
        {
            var p = pts[i];
            double dm = Math.Log2(p.M) - lm, dk = Math.Log2(p.K) - lk, dn = Math.Log2(p.N) - ln;
            var d = dm * dm + dk * dk + dn * dn;
            if (d >= dist[3]) continue;
            var j = 3;
            while (j > 0 && dist[j - 1] > d) { dist[j] = dist[j - 1]; idx[j] = idx[j - 1]; j--; }
            dist[j] = d; idx[j] = i;
        }
        if (dist[0] == 0) return Math.Max(pts[idx[0]].Seconds * flops / pts[idx[0]].Flops, _floorSeconds[dtype]);
        double wsum = 0, logRate = 0;
        for (var j = 0; j < 4 && idx[j] >= 0; j++)
        {
            var w = 1 / dist[j];
            wsum += w;
            logRate += w * Math.Log(pts[idx[j]].Flops / pts[idx[j]].Seconds);
        }
        return Math.Max(flops / Math.Exp(logRate / wsum), _floorSeconds[dtype]);
    }
}
