using Sim.Workload;

namespace Sim.Sharding;

/// <summary>How one table is split and where its shards live. Data-parallel tables have one full replica per rank.</summary>
public sealed record TablePlan(EmbeddingTable Table, ShardingScheme Scheme, IReadOnlyList<Shard> Shards)
{
    public IEnumerable<int> Ranks => Shards.Select(s => s.Rank);

    /// <summary>Builds the shards of a scheme over the given ranks (even split, the first shards take the remainder).</summary>
    public static TablePlan Create(EmbeddingTable table, ShardingScheme scheme, IReadOnlyList<int> ranks)
    {
        if (ranks.Count == 0) throw new ArgumentException("a table needs at least one rank", nameof(ranks));
        var shards = new List<Shard>(ranks.Count);
        switch (scheme)
        {
            case ShardingScheme.TableWise:
                if (ranks.Count != 1) throw new ArgumentException("table-wise takes exactly one rank", nameof(ranks));
                shards.Add(new Shard(ranks[0], 0, table.Rows, 0, table.Dim));
                break;
            case ShardingScheme.RowWise:
                foreach (var (offset, count, i) in EvenSplit(table.Rows, ranks.Count))
                    shards.Add(new Shard(ranks[i], offset, count, 0, table.Dim));
                break;
            case ShardingScheme.ColumnWise:
                foreach (var (offset, count, i) in EvenSplit(table.Dim, ranks.Count))
                    shards.Add(new Shard(ranks[i], 0, table.Rows, (int)offset, (int)count));
                break;
            case ShardingScheme.DataParallel:
                shards.AddRange(ranks.Select(r => new Shard(r, 0, table.Rows, 0, table.Dim)));
                break;
        }
        return new TablePlan(table, scheme, shards);
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
