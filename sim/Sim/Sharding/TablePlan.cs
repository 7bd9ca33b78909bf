using Sim.Workload;

namespace Sim.Sharding;

/// <summary>
/// How one table is split, where its shards live and in which memory tier. Data-parallel tables have one full
/// replica per rank. <see cref="CacheFraction"/> is the share of rows a cache holds: in HBM for UvmCaching, in host
/// DDR for Ssd (0 for the other tiers).
/// </summary>
public sealed record TablePlan(EmbeddingTable Table, ShardingScheme Scheme, IReadOnlyList<Shard> Shards,
    MemoryTier Tier = MemoryTier.Hbm, double CacheFraction = 0)
{
    public IEnumerable<int> Ranks => Shards.Select(s => s.Rank);

    /// <summary>Fraction of the rows' bytes kept in HBM: 1 on HBM, 0 on plain UVM, the cache share with caching.</summary>
    public double HbmFraction => Tier switch { MemoryTier.Hbm => 1, MemoryTier.UvmCaching => CacheFraction, _ => 0 };

    /// <summary>Fraction of the rows' bytes in host DDR: all of them on the UVM tiers, the DDR cache's share on SSD.</summary>
    public double DdrFraction => Tier switch { MemoryTier.Hbm => 0, MemoryTier.Ssd => CacheFraction, _ => 1 };

    public TablePlan InTier(MemoryTier tier, double cacheFraction = 0) => this with { Tier = tier, CacheFraction = tier.IsCached() ? cacheFraction : 0 };

    /// <summary>Builds the shards of a scheme over the given ranks (even split, the first shards take the remainder).</summary>
    public static TablePlan Create(EmbeddingTable table, ShardingScheme scheme, IReadOnlyList<int> ranks, IReadOnlyList<long>? splits = null)
    {
        if (ranks.Count == 0) throw new ArgumentException("a table needs at least one rank", nameof(ranks));
        var shards = new List<Shard>(ranks.Count);
        switch (scheme)
        {
            case ShardingScheme.TableWise:
                if (ranks.Count != 1) throw new ArgumentException("table-wise takes exactly one rank", nameof(ranks));
                shards.Add(new Shard(ranks[0], 0, table.Rows, 0, table.Dim));
                break;
            case ShardingScheme.RowWise or ShardingScheme.TableRowWise:
                foreach (var (offset, count, i) in Split(table.Rows, ranks.Count, splits))
                    shards.Add(new Shard(ranks[i], offset, count, 0, table.Dim));
                break;
            case ShardingScheme.ColumnWise or ShardingScheme.TableColumnWise:
                foreach (var (offset, count, i) in Split(table.Dim, ranks.Count, splits))
                    shards.Add(new Shard(ranks[i], 0, table.Rows, (int)offset, (int)count));
                break;
            case ShardingScheme.DataParallel:
                shards.AddRange(ranks.Select(r => new Shard(r, 0, table.Rows, 0, table.Dim)));
                break;
        }
        return new TablePlan(table, scheme, shards);
    }

    /// <summary>The sizes of the row or column shards, in shard order.</summary>
    public IReadOnlyList<long> Splits => Scheme.SplitsRows() ? Shards.Select(s => s.Rows).ToArray()
        : Scheme.SplitsColumns() ? Shards.Select(s => (long)s.Columns).ToArray() : [];

    /// <summary>Whether the splits are the even ones <see cref="Create"/> makes by default.</summary>
    public bool HasEvenSplits => Scheme.SplitsRows() || Scheme.SplitsColumns()
        ? Splits.SequenceEqual(EvenSplit(Scheme.SplitsRows() ? Table.Rows : Table.Dim, Shards.Count).Select(x => x.Count))
        : true;

    private static IEnumerable<(long Offset, long Count, int Index)> Split(long n, int k, IReadOnlyList<long>? sizes)
    {
        if (sizes is null) return EvenSplit(n, k);
        if (sizes.Count != k || sizes.Any(x => x <= 0) || sizes.Sum() != n)
            throw new ArgumentException($"splits must be {k} positive sizes adding up to {n}", nameof(sizes));
        var offsets = new long[k];
        for (var i = 1; i < k; i++) offsets[i] = offsets[i - 1] + sizes[i - 1];
        return Enumerable.Range(0, k).Select(i => (offsets[i], sizes[i], i));
    }

    /// <summary>Splits n into k near-equal consecutive parts: (offset, count, index).</summary>
    public static IEnumerable<(long Offset, long Count, int Index)> EvenSplit(long n, int k)
    {
        long q = n / k, r = n % k, offset = 0;
        for (var i = 0; i < k; i++)
        {
            var c = q + (i < r ? 1 : 0);
            yield return (offset, c, i);
            offset += c;
        }
    }
}
