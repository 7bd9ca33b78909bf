using Sim.Cost;
using Sim.Topology;
using Sim.Workload;

namespace Sim.Sharding.Planners;

/// <summary>
/// Running per-rank load (estimated embedding seconds) and free HBM while a planner places tables.
/// Costs are the analytical model's lookup + update seconds and pooled all-to-all bytes of a placement.
/// </summary>
public sealed class RankLoads
{
    private readonly Cluster _c;
    private readonly DlrmWorkload _w;
    private readonly CostParameters _p;
    public double[] Load { get; }
    public long[] Free { get; }

    public RankLoads(Cluster c, DlrmWorkload w, CostParameters p)
    {
        _c = c; _w = w; _p = p;
        Load = new double[c.WorldSize];
        var baseUse = MemoryModel.PerRank(c, w, new ShardingPlan("empty", []));
        Free = baseUse.Select(u => c.Gpu.HbmBytes - u.TotalBytes).ToArray();
    }

    /// <summary>Estimated seconds a table adds to the ranks that hold it, per shard of a given placement.</summary>
    public double ShardSeconds(TablePlan tp, Shard s)
    {
        var t = tp.Table;
        double B = _w.GlobalBatchSize, V = t.VectorsPerSample;
        var lookups = B * (tp.Scheme.SplitsRows() ? t.LookupsPerSample * s.Rows / t.Rows : t.LookupsPerSample);
        var rowBytes = lookups * t.RowBytes(s.Columns);
        var hit = tp.Tier == MemoryTier.Hbm ? 1 : CacheModel.HitRate(t, tp.HbmFraction);
        var hbm = 3 * hit * rowBytes + 2 * B * V * s.Columns * 4;
        var host = 3 * (1 - hit) * rowBytes;
        var a2aBytes = (double)B / _c.WorldSize * V * s.Columns * 4 * 2 * (_c.WorldSize - 1);
        var link = _c.Nodes > 1 ? _c.ScaleOut : _c.IntraNode;
        return ComputeCost.EmbeddingSeconds(_c.Gpu, _p, hbm, 2) + ComputeCost.UvmSeconds(_c, _p, host) + a2aBytes / link.BytesPerSecond;
    }

    /// <summary>HBM bytes a shard takes: its rows (the cached share for UVM), optimizer state and pooled outputs.</summary>
    public long ShardBytes(TablePlan tp, Shard s)
    {
        var rows = tp.Table.ShardBytes(s.Rows, s.Columns) + s.Rows * _w.Optimizer.StateBytesPerRow();
        return (long)Math.Ceiling(rows * tp.HbmFraction) + (long)(_w.GlobalBatchSize * (double)s.Columns * tp.Table.VectorsPerSample * 8);
    }

    public bool Fits(TablePlan tp)
    {
        if (tp.Shards.Count == 1) return Free[tp.Shards[0].Rank] >= ShardBytes(tp, tp.Shards[0]);
        return tp.Shards.GroupBy(s => s.Rank).All(g => Free[g.Key] >= g.Sum(s => ShardBytes(tp, s)));
    }

    public void Add(TablePlan tp)
    {
        foreach (var s in tp.Shards)
        {
            Free[s.Rank] -= ShardBytes(tp, s);
            Load[s.Rank] += ShardSeconds(tp, s);
        }
    }

    public double TableSeconds(TablePlan tp) => tp.Shards.Sum(s => ShardSeconds(tp, s));

    public double Max => Load.Max();
    public double Mean => Load.Average();
}
