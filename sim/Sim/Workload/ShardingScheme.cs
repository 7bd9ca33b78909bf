namespace Sim.Workload;

/// <summary>
/// How a table is split. TableRowWise is row-wise over the GPUs of one node (the table is placed on a node);
/// TableColumnWise is column-wise over the GPUs of one node.
/// </summary>
public enum ShardingScheme { TableWise, RowWise, ColumnWise, DataParallel, TableRowWise, TableColumnWise }

internal static class ShardingSchemes
{
    public static readonly IReadOnlyDictionary<string, ShardingScheme> Words = new Dictionary<string, ShardingScheme>
    {
        ["table_wise"] = ShardingScheme.TableWise, ["row_wise"] = ShardingScheme.RowWise,
        ["column_wise"] = ShardingScheme.ColumnWise, ["data_parallel"] = ShardingScheme.DataParallel,
        ["table_row_wise"] = ShardingScheme.TableRowWise, ["table_column_wise"] = ShardingScheme.TableColumnWise,
    };

    /// <summary>Row-split schemes: each shard serves the lookups that fall in its rows.</summary>
    public static bool SplitsRows(this ShardingScheme s) => s is ShardingScheme.RowWise or ShardingScheme.TableRowWise;

    /// <summary>Column-split schemes: every shard serves every lookup, on its columns.</summary>
    public static bool SplitsColumns(this ShardingScheme s) => s is ShardingScheme.ColumnWise or ShardingScheme.TableColumnWise;

    /// <summary>Schemes whose shards must all sit on one node.</summary>
    public static bool IsNodeLocal(this ShardingScheme s) => s is ShardingScheme.TableRowWise or ShardingScheme.TableColumnWise;

    public static string Name(this ShardingScheme s) => Words.First(kv => kv.Value == s).Key;
}
