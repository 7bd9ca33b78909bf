namespace Sim.Sharding;

/// <summary>A complete plan: one <see cref="TablePlan"/> per workload table, in workload order.</summary>
public sealed record ShardingPlan(string Name, IReadOnlyList<TablePlan> Tables, Schedule? Schedule = null)
{
    public Schedule EffectiveSchedule => Schedule ?? Sharding.Schedule.Sequential;

    public IEnumerable<Shard> ShardsOn(int rank) => Tables.SelectMany(t => t.Shards.Where(s => s.Rank == rank));
}
