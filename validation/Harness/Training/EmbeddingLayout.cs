using Sim.Sharding;
using Sim.Workload;

namespace Sim.Harness.Training;

/// <summary>
/// Where every piece of every table lives and how the all-to-alls are laid out: the same on every rank, derived
/// from the plan alone. A rank's "owned shards" are its non-data-parallel shards in plan order (table order, then
/// shard order); its pooled output is B x <see cref="PooledWidth"/> with each owned shard's columns at
/// <see cref="OwnedShard.PooledColumn"/>, and what rank s sends rank d in the pooled all-to-all is rows
/// [d*b, (d+1)*b) of that.
/// </summary>
public sealed class EmbeddingLayout
{
    public sealed record TableInfo(int Index, EmbeddingTable Table, ShardingScheme Scheme, IReadOnlyList<Shard> Shards, int Lookups);

    /// <param name="Table">Table index in workload order.</param>
    /// <param name="ShardIndex">Index of the shard within its table's plan.</param>
    /// <param name="PooledColumn">First column of this shard in its owner's pooled output.</param>
    /// <param name="RowWiseSlot">For a row-wise shard, its position among its owner's row-wise shards (the header slot); else -1.</param>
    public sealed record OwnedShard(int Table, int ShardIndex, Shard Shard, ShardingScheme Scheme, int PooledColumn, int RowWiseSlot);

    public int World { get; }
    public long GlobalBatch { get; }
    public long LocalBatch { get; }
    public IReadOnlyList<TableInfo> Tables { get; }
    /// <summary>Per rank: its non-data-parallel shards in plan order.</summary>
    public IReadOnlyList<IReadOnlyList<OwnedShard>> Owned { get; }
    /// <summary>Per rank: columns of its pooled output (sum of its owned shards' columns).</summary>
    public IReadOnlyList<int> PooledWidth { get; }
    /// <summary>Per rank: how many row-wise shards it owns (entries in the index-count header it receives from each peer).</summary>
    public IReadOnlyList<int> RowWiseOwned { get; }
    /// <summary>Tables replicated on every rank, in workload order.</summary>
    public IReadOnlyList<int> DataParallelTables { get; }
    public bool AnySharded => Owned.Any(o => o.Count > 0);
    public bool AnyRowWise => RowWiseOwned.Any(n => n > 0);

    private readonly Dictionary<(int Table, int Shard), OwnedShard> _byShard = [];

    public EmbeddingLayout(DlrmWorkload w, ShardingPlan plan, int world)
    {
        World = world;
        GlobalBatch = w.GlobalBatchSize;
        LocalBatch = w.GlobalBatchSize / world;
        var owned = Enumerable.Range(0, world).Select(_ => new List<OwnedShard>()).ToArray();
        var width = new int[world];
        var rw = new int[world];
        var tables = new List<TableInfo>();
        var dp = new List<int>();
        for (var t = 0; t < plan.Tables.Count; t++)
        {
            var tp = plan.Tables[t];
            tables.Add(new TableInfo(t, tp.Table, tp.Scheme, tp.Shards, BatchGenerator.Lookups(tp.Table)));
            if (tp.Scheme == ShardingScheme.DataParallel) { dp.Add(t); continue; }
            for (var k = 0; k < tp.Shards.Count; k++)
            {
                var s = tp.Shards[k];
                var slot = tp.Scheme == ShardingScheme.RowWise ? rw[s.Rank]++ : -1;
                var os = new OwnedShard(t, k, s, tp.Scheme, width[s.Rank], slot);
                owned[s.Rank].Add(os);
                _byShard[(t, k)] = os;
                width[s.Rank] += s.Columns;
            }
        }
        Tables = tables;
        Owned = owned;
        PooledWidth = width;
        RowWiseOwned = rw;
        DataParallelTables = dp;
    }

    public OwnedShard Of(int table, int shard) => _byShard[(table, shard)];

    /// <summary>Elements of pooled output rank <paramref name="src"/> sends to each rank in the forward all-to-all.</summary>
    public long PooledElementsFrom(int src) => LocalBatch * PooledWidth[src];
}
