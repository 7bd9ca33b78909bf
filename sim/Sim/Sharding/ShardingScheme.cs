namespace Sim.Sharding;

public enum ShardingScheme { TableWise, RowWise, ColumnWise, DataParallel }

public static class ShardingSchemes
{
    public static readonly IReadOnlyDictionary<string, ShardingScheme> Words = new Dictionary<string, ShardingScheme>
    {
        ["table_wise"] = ShardingScheme.TableWise, ["row_wise"] = ShardingScheme.RowWise,
        ["column_wise"] = ShardingScheme.ColumnWise, ["data_parallel"] = ShardingScheme.DataParallel,
    };

    public static string Name(this ShardingScheme s) => Words.First(kv => kv.Value == s).Key;
}
