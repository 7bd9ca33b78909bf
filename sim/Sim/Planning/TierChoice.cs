using Sim.Sharding;
using System.Globalization;
using Sim.Config;
using Sim.Cost;
using Sim.Workload;

namespace Sim.Planning;

/// <summary>
/// The memory tier of each table, chosen once before placement and shared by every planner (through
/// <see cref="RankLoads.Tiers"/>). While the tables' rows, optimizer state and pooled outputs fit in the GPUs' free
/// HBM together, every table stays in HBM and nothing changes. Otherwise each table gets an HBM share of its rows:
/// 1 = HBM, 0 = UVM (host DDR, every lookup over the host link), in between = UVM caching with that cache fraction.
/// Each share is priced by <see cref="RankLoads.ShardSeconds"/> (HBM and host-memory traffic at the hit rate
/// <see cref="CacheModel"/> gives for the table's access skew), and HBM goes, a step at a time, to the table whose
/// next share saves the most predicted seconds per byte (a greedy multiple-choice knapsack, <see cref="ShareKnapsack"/>)
/// until <see cref="Headroom"/> of the free HBM is spent; the rest is left for packing whole shards onto GPUs.
/// When the tables left outside HBM overflow host DDR and the cluster has an SSD (`host.ssd`), the same knapsack runs
/// once more over host DDR: each of those tables starts on SSD with no DDR cache and DDR goes to the table whose next
/// step (a bigger DDR cache, up to keeping the tier the first pass chose) saves the most seconds per byte, until
/// <see cref="Headroom"/> of the DDR is spent. Without an SSD nothing changes.
/// Embedding rows stay in the dtype the workload gives them (`dtype: fp16`, or `int8` with a per-row scale and bias):
/// the workload format states a table's storage, not which precisions it would tolerate, so the planner does not
/// change it.
/// </summary>
internal sealed class TierChoice
{
    /// <summary>HBM shares a table may get: the cache fractions tried, with 0 (UVM) and 1 (HBM) at the ends. Below 1 they are also the SSD tier's DDR cache fractions.</summary>
    public static readonly double[] Fractions = [0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

    /// <summary>Share of the free HBM (and, when tables go to SSD, of host DDR) the tier choice spends on rows; the rest absorbs packing losses.</summary>
    public const double Headroom = 0.9;

    public static readonly TierChoice AllHbm = new(new Dictionary<EmbeddingTable, TierStep>(ReferenceEqualityComparer.Instance));

    private readonly Dictionary<EmbeddingTable, TierStep> _step;

    private TierChoice(Dictionary<EmbeddingTable, TierStep> step) => _step = step;

    /// <summary>Whether every table stays in HBM.</summary>
    public bool IsAllHbm => _step.Values.All(s => s.Tier == MemoryTier.Hbm);

    /// <summary>The tier and cache chosen for a table (HBM when it stays there).</summary>
    public TierStep StepOf(EmbeddingTable t) => _step.TryGetValue(t, out var s) ? s : TierStep.Hbm;

    /// <summary>The HBM share chosen for a table (1 when it stays in HBM, 0 on UVM or SSD).</summary>
    public double ShareOf(EmbeddingTable t) => StepOf(t).HbmShare;

    /// <summary>The placement in its table's chosen tier (data-parallel replicas always stay in HBM).</summary>
    public TablePlan Apply(TablePlan tp) =>
        tp.Scheme == ShardingScheme.DataParallel ? tp : StepOf(tp.Table).Apply(tp);

    /// <summary>A placement with the given HBM share: HBM at 1, UVM at 0, UVM caching with that cache fraction in between.</summary>
    public static TablePlan InShare(TablePlan tp, double share) => StepOfShare(share).Apply(tp);

    /// <summary>The tier of an HBM share: HBM at 1, UVM at 0, UVM caching with that cache fraction in between.</summary>
    public static TierStep StepOfShare(double share) =>
        share >= 1 ? TierStep.Hbm : share <= 0 ? new TierStep(MemoryTier.Uvm, 0) : new TierStep(MemoryTier.UvmCaching, share);

    /// <summary>
    /// Chooses the tiers for the context's workload on an empty cluster (<paramref name="empty"/>: free HBM after dense
    /// parameters and activations). Throws a one-line error naming the tier that is short, and by how many bytes, when
    /// the tables cannot fit even with every one that HBM cannot hold in host DDR (or on SSD, where there is one).
    /// </summary>
    public static TierChoice Choose(PlannerContext ctx, RankLoads empty)
    {
        var c = ctx.Cluster;
        var w = ctx.Workload;
        var tables = w.Tables;
        var n = tables.Count;
        var whole = tables.Select(t => Placements.TableWise(t, 0)).ToArray();
        // Rows + optimizer state of each table, and the pooled outputs its shard keeps in HBM whatever its tier.
        var rowBytes = whole.Select(tp => (double)empty.ShardHostBytes(tp.InTier(MemoryTier.Uvm), tp.Shards[0])).ToArray();
        var pooled = whole.Select(tp => (double)empty.ShardBytes(tp.InTier(MemoryTier.Uvm), tp.Shards[0])).ToArray();
        var free = empty.Free.Sum(f => (double)Math.Max(0, f));
        var rowsTotal = rowBytes.Sum();
        var pooledTotal = pooled.Sum();
        if (rowsTotal + pooledTotal <= free * ctx.TierHeadroom / Headroom || w.DefaultScheme == ShardingScheme.DataParallel) return AllHbm;

        var hostCap = (double)c.Nodes * c.Host.DdrBytes;
        var ssdCap = (double)c.Nodes * (c.Host.Ssd?.CapacityBytes ?? 0);
        var hbmLine = $"HBM {Units.Bytes(free)} free over {c.WorldSize} GPUs after dense parameters and activations";
        if (pooledTotal > free)
            throw Short(ctx, $"the tables' pooled outputs alone need {Units.Bytes(pooledTotal)} of HBM but the cluster has {hbmLine}: HBM short by {Units.Bytes(pooledTotal - free)} ({Bytes(pooledTotal - free)} bytes)");
        var leastHost = rowsTotal - (free - pooledTotal);
        if (leastHost > hostCap + ssdCap)
            throw Short(ctx, $"the tables' rows and optimizer state need {Units.Bytes(rowsTotal)} but the cluster holds at most {Units.Bytes(free - pooledTotal + hostCap + ssdCap)}: " +
                             $"HBM {Units.Bytes(free - pooledTotal)} for rows over {c.WorldSize} GPUs after dense parameters, activations and pooled outputs, host DDR {Units.Bytes(hostCap)} ({c.Nodes} nodes x {Units.Bytes(c.Host.DdrBytes)}); " +
                             (c.Host.Ssd is { } ssd
                                 ? $"SSD {Units.Bytes(ssdCap)} ({c.Nodes} nodes x {Units.Bytes(ssd.CapacityBytes)}); host DDR and SSD short by {Units.Bytes(leastHost - hostCap - ssdCap)} ({Bytes(leastHost - hostCap - ssdCap)} bytes)"
                                 : $"host DDR short by {Units.Bytes(leastHost - hostCap)} ({Bytes(leastHost - hostCap)} bytes)"));

        // Price every share of every table, and spend HBM where it saves the most.
        var m = Fractions.Length;
        var cost = new double[n, m];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < m; j++)
                cost[i, j] = empty.TableSeconds(InShare(whole[i], Fractions[j]));
        var at = ShareKnapsack.Spend(cost, (i, from, to) => (Fractions[to] - Fractions[from]) * rowBytes[i], Math.Max(0, ctx.TierHeadroom * free - pooledTotal));
        var step = new Dictionary<EmbeddingTable, TierStep>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < n; i++) step[tables[i]] = StepOfShare(Fractions[at[i]]);
        var outside = Enumerable.Range(0, n).Where(i => at[i] < m - 1).ToArray();
        var hostNeed = outside.Sum(i => rowBytes[i]);
        if (hostNeed <= hostCap) return new TierChoice(step);
        if (c.Host.Ssd is null)
            throw Short(ctx, $"with the tiers chosen ({outside.Length} of {n} tables outside HBM) the host needs {Units.Bytes(hostNeed)} " +
                             $"but has {Units.Bytes(hostCap)} ({c.Nodes} nodes x {Units.Bytes(c.Host.DdrBytes)}): host DDR short by {Units.Bytes(hostNeed - hostCap)} ({Bytes(hostNeed - hostCap)} bytes)");
        SpillToSsd(ctx, empty, step, outside.Select(i => whole[i]).ToArray(), hostCap, ssdCap);
        return new TierChoice(step);
    }

    /// <summary>
    /// The second pass: the tables outside HBM start on SSD with no DDR cache, and host DDR goes to bigger DDR caches,
    /// up to the tier the first pass chose (all rows in DDR), where it saves the most seconds per byte.
    /// </summary>
    private static void SpillToSsd(PlannerContext ctx, RankLoads empty, Dictionary<EmbeddingTable, TierStep> step, TablePlan[] outside, double hostCap, double ssdCap)
    {
        var c = ctx.Cluster;
        var ssdFractions = Fractions.Where(f => f < 1).ToArray();
        var options = outside.Select(tp => ssdFractions.Select(f => new TierStep(MemoryTier.Ssd, f)).Append(step[tp.Table]).ToArray()).ToArray();
        var k = options[0].Length;
        var cost = new double[outside.Length, k];
        var ddr = new double[outside.Length, k];
        for (var i = 0; i < outside.Length; i++)
            for (var j = 0; j < k; j++)
            {
                var tp = options[i][j].Apply(outside[i]);
                cost[i, j] = empty.TableSeconds(tp);
                ddr[i, j] = empty.ShardHostBytes(tp, tp.Shards[0]);
            }
        var at = ShareKnapsack.Spend(cost, (i, from, to) => ddr[i, to] - ddr[i, from], Headroom * hostCap);
        for (var i = 0; i < outside.Length; i++) step[outside[i].Table] = options[i][at[i]];
        var onSsd = Enumerable.Range(0, outside.Length).Where(i => options[i][at[i]].Tier == MemoryTier.Ssd).ToArray();
        var ssdNeed = onSsd.Sum(i => (double)empty.ShardSsdBytes(options[i][at[i]].Apply(outside[i]), outside[i].Shards[0]));
        if (ssdNeed > ssdCap)
            throw Short(ctx, $"with the tiers chosen ({onSsd.Length} of {ctx.Workload.Tables.Count} tables on SSD) the SSDs need {Units.Bytes(ssdNeed)} " +
                             $"but have {Units.Bytes(ssdCap)} ({c.Nodes} nodes x {Units.Bytes(c.Host.Ssd!.CapacityBytes)}): SSD short by {Units.Bytes(ssdNeed - ssdCap)} ({Bytes(ssdNeed - ssdCap)} bytes)");
    }

    /// <summary>
    /// Runs a planner's placement; where a table then fits nowhere (the planner spread earlier tables' shards, and their
    /// pooled outputs, over more GPUs than the tier choice allowed for), runs it again with 0.1 less of the free HBM
    /// given to rows, down to 0.1. The shared step that lets every planner live with the tiers chosen for it.
    /// </summary>
    public static PlannerResult Fitted(PlannerContext ctx, Func<PlannerContext, PlannerResult> place)
    {
        for (var headroom = ctx.TierHeadroom; ; headroom -= 0.1)
        {
            try { return place(ctx with { TierHeadroom = headroom }); }
            catch (SimInputException e) when (e.Field.StartsWith("tables.", StringComparison.Ordinal) && headroom > 0.15) { }
        }
    }

    private static SimInputException Short(PlannerContext ctx, string problem) => new(ctx.WorkloadFile, "tables", "the model does not fit: " + problem);

    private static string Bytes(double b) => Math.Ceiling(b).ToString("F0", CultureInfo.InvariantCulture);

    /// <summary>"; " and <see cref="Describe"/>'s line, for a planner's summary; empty when every table is in HBM.</summary>
    public static string Suffix(ShardingPlan plan) => Describe(plan) is { } d ? "; " + d : "";

    /// <summary>
    /// One line on the tiers of a plan: tables per tier, the cache fractions and lookup-weighted hit rate of the
    /// caching tables (an HBM cache for uvm_caching, a DDR cache for ssd); null when every table is in HBM.
    /// </summary>
    public static string? Describe(ShardingPlan plan)
    {
        if (plan.Tables.All(t => t.Tier == MemoryTier.Hbm)) return null;
        var inv = CultureInfo.InvariantCulture;
        var parts = new List<string>();
        foreach (var tier in new[] { MemoryTier.Hbm, MemoryTier.UvmCaching, MemoryTier.Uvm, MemoryTier.Ssd })
        {
            var ts = plan.Tables.Where(t => t.Tier == tier).ToList();
            if (ts.Count == 0) continue;
            var part = $"{ts.Count} {tier.Name()}";
            if (tier.IsCached())
            {
                double lo = ts.Min(t => t.CacheFraction), hi = ts.Max(t => t.CacheFraction);
                var lookups = ts.Sum(t => t.Table.LookupsPerSample);
                var hit = ts.Sum(t => t.Table.LookupsPerSample * CacheModel.HitRate(t.Table, t.CacheFraction)) / Math.Max(lookups, 1e-300);
                var fractions = lo == hi ? lo.ToString("0.###", inv) : $"{lo.ToString("0.###", inv)}-{hi.ToString("0.###", inv)}";
                part += $" ({(tier == MemoryTier.Ssd ? "DDR " : "")}cache fraction {fractions}, hit rate {hit.ToString("P1", inv)})";
            }
            parts.Add(part);
        }
        return "tables per tier: " + string.Join(", ", parts);
    }
}
