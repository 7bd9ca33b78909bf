namespace Sim.Sharding;

/// <summary>A block of a table held by one rank: rows [RowOffset, RowOffset+Rows) x columns [ColumnOffset, ColumnOffset+Columns).</summary>
public sealed record Shard(int Rank, long RowOffset, long Rows, int ColumnOffset, int Columns)
{
    public long Elements => checked(Rows * Columns);
}
