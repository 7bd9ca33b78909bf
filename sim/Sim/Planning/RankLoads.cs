using Sim.Accounting;
using Sim.Sharding;
using Sim.Cost;
using Sim.Topology;
using Sim.Workload;

namespace Sim.Planning;

/// <summary>
/// Running per-rank load (estimated embedding seconds), free HBM per GPU and free host DDR and SSD per node while a planner
/// places tables. Costs are the analytical model's lookup + update seconds (HBM and host-memory traffic at the
/// placement's cache hit rate) and pooled all-to-all bytes of a placement. <see cref="Tiers"/> is the memory tier
/// each table goes to (<see cref="TierChoice"/>); <see cref="Tiered"/> puts a placement there.
/// </summary>
internal sealed class RankLoads
{
    private readonly Cluster _c;
    private readonly DlrmWorkload _w;
    private readonly CostParameters _p;
    public double[] Load { get; }
    public long[] Free { get; }

    /// <summary>Host DDR left per node for the rows (and optimizer state) of tables outside HBM.</summary>
    public long[] HostFree { get; }

    /// <summary>SSD left per node for the rows (and optimizer state) of SSD-tier tables; 0 without an SSD.</summary>
    public long[] SsdFree { get; }

    /// <summary>The tier and cache fraction chosen for each table; all HBM unless a planner's context chose otherwise.</summary>
    public TierChoice Tiers { get; private set; } = TierChoice.AllHbm;

    public RankLoads(Cluster c, DlrmWorkload w, CostParameters p)
    {
        _c = c; _w = w; _p = p;
        Load = new double[c.WorldSize];
        var baseUse = MemoryModel.PerRank(c, w, new ShardingPlan("empty", []));
        Free = baseUse.Select(u => c.Gpu.HbmBytes - u.TotalBytes).ToArray();
        HostFree = Enumerable.Repeat(c.Host.DdrBytes, c.Nodes).ToArray();
        SsdFree = Enumerable.Repeat(c.Host.Ssd?.CapacityBytes ?? 0, c.Nodes).ToArray();
    }

    /// <summary>Loads of an empty cluster with the memory tiers chosen for the context's tables (<see cref="TierChoice.Choose"/>).</summary>
    public RankLoads(PlannerContext ctx) : this(ctx.Cluster, ctx.Workload, ctx.Cost) => Tiers = TierChoice.Choose(ctx, this);

    /// <summary>The placement in the tier chosen for its table.</summary>
    public TablePlan Tiered(TablePlan tp) => Tiers.Apply(tp);

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
        return ComputeCost.EmbeddingSeconds(_c.Gpu, _p, hbm, 2) + ComputeCost.UvmSeconds(_c, _p, host) + SsdSeconds(tp, s, lookups)
            + a2aBytes / link.BytesPerSecond;
    }

    /// <summary>SSD seconds of an SSD-tier shard as <see cref="EmbeddingWork"/> counts them: DDR-cache misses read and written back, a page each.</summary>
    private double SsdSeconds(TablePlan tp, Shard s, double lookups)
    {
        if (tp.Tier != MemoryTier.Ssd || _c.Host.Ssd is not { } ssd) return 0;
        var pages = (1 - CacheModel.HitRate(tp.Table, tp.CacheFraction)) * lookups * ssd.IoBytes(tp.Table.RowBytes(s.Columns) + _w.Optimizer.StateBytesPerRow());
        return ComputeCost.SsdReadSeconds(_c, pages) + ComputeCost.SsdWriteSeconds(_c, pages);
    }

    /// <summary>HBM bytes a shard takes: its rows (the cached share for UVM), optimizer state and pooled outputs.</summary>
    public long ShardBytes(TablePlan tp, Shard s) =>
        (long)Math.Ceiling(RowAndStateBytes(tp, s) * tp.HbmFraction) + (long)(_w.GlobalBatchSize * (double)s.Columns * tp.Table.VectorsPerSample * 8);

    /// <summary>
    /// Host DDR bytes a shard takes: all its rows and their optimizer state on the UVM tiers (HBM-cached rows included),
    /// the DDR cache's share on SSD, else 0.
    /// </summary>
    public long ShardHostBytes(TablePlan tp, Shard s) => (long)Math.Ceiling(RowAndStateBytes(tp, s) * tp.DdrFraction);

    /// <summary>SSD bytes a shard takes: all its rows and their optimizer state on the SSD tier, else 0.</summary>
    public long ShardSsdBytes(TablePlan tp, Shard s) => tp.Tier == MemoryTier.Ssd ? RowAndStateBytes(tp, s) : 0;

    private long RowAndStateBytes(TablePlan tp, Shard s) => tp.Table.ShardBytes(s.Rows, s.Columns) + s.Rows * _w.Optimizer.StateBytesPerRow();

    /// <summary>Whether the placement fits the free HBM of its GPUs and the free host DDR and SSD of their nodes.</summary>
    public bool Fits(TablePlan tp)
    {
        if (tp.Shards.Count == 1)
        {
            var s = tp.Shards[0];
            var node = _c.NodeOf(s.Rank);
            return Free[s.Rank] >= ShardBytes(tp, s) && HostFree[node] >= ShardHostBytes(tp, s) && SsdFree[node] >= ShardSsdBytes(tp, s);
        }
        if (!tp.Shards.GroupBy(s => s.Rank).All(g => Free[g.Key] >= g.Sum(s => ShardBytes(tp, s)))) return false;
        return tp.Tier == MemoryTier.Hbm || tp.Shards.GroupBy(s => _c.NodeOf(s.Rank))
            .All(g => HostFree[g.Key] >= g.Sum(s => ShardHostBytes(tp, s)) && SsdFree[g.Key] >= g.Sum(s => ShardSsdBytes(tp, s)));
    }

    public void Add(TablePlan tp)
    {
        foreach (var s in tp.Shards)
        {
            Free[s.Rank] -= ShardBytes(tp, s);
            HostFree[_c.NodeOf(s.Rank)] -= ShardHostBytes(tp, s);
            SsdFree[_c.NodeOf(s.Rank)] -= ShardSsdBytes(tp, s);
            Load[s.Rank] += ShardSeconds(tp, s);
        }
    }

    public double TableSeconds(TablePlan tp) => tp.Shards.Sum(s => ShardSeconds(tp, s));

    public double Max => Load.Max();
    public double Mean => Load.Average();
}
