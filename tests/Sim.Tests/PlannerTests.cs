using Sim.Config;
using Sim.Sharding;

namespace Sim.Tests;

public class PlannerTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 4)]
    [InlineData(2, 4)]
    [InlineData(16, 8)]
    public void Greedy_plans_cover_every_table_once_and_fit(int nodes, int gpus)
    {
        var c = Fixtures.Cluster(nodes, gpus);
        var w = Fixtures.Workload();
        var plan = GreedyPlanner.Plan(c, w);
        Assert.Equal(w.Tables.Select(t => t.Name), plan.Tables.Select(t => t.Table.Name));
        foreach (var tp in plan.Tables)
        {
            // Row coverage: shards tile the rows exactly once (columns likewise).
            var rows = tp.Shards.Sum(s => s.Rows);
            Assert.Equal(tp.Table.Rows * (tp.Scheme == ShardingScheme.RowWise ? 1 : tp.Shards.Count), rows);
        }
        MemoryModel.EnsureFits(c, MemoryModel.PerRank(c, w, plan), "greedy");
    }

    [Fact]
    public void Greedy_puts_the_largest_tables_on_different_gpus()
    {
        var c = Fixtures.Cluster(1, 4);
        var w = Fixtures.Workload();
        var plan = GreedyPlanner.Plan(c, w);
        var ranks = plan.Tables.Select(t => t.Shards.Single().Rank).ToArray();
        Assert.Equal(4, ranks.Distinct().Count());
    }

    [Fact]
    public void A_table_too_big_for_one_gpu_is_split_row_wise()
    {
        // 100,000 x 32 fp32 = 12.8 MB: give each GPU 10 MB so only a row-wise split fits.
        var c = Fixtures.Cluster(1, 4, hbm: 10e6);
        var w = Fixtures.Workload();
        var plan = GreedyPlanner.Plan(c, w);
        var a = plan.Tables.Single(t => t.Table.Name == "a");
        Assert.Equal(ShardingScheme.RowWise, a.Scheme);
        Assert.Equal(4, a.Shards.Count);
        Assert.Equal(100000, a.Shards.Sum(s => s.Rows));
    }

    [Fact]
    public void A_table_that_fits_nowhere_is_a_clear_error()
    {
        var c = Fixtures.Cluster(1, 2, hbm: 5e6);
        var w = Fixtures.Workload();
        var e = Assert.Throws<SimInputException>(() => GreedyPlanner.Plan(c, w, "w.yaml"));
        Assert.Contains("table 'a'", e.Message);
        Assert.Contains("fits on no GPU", e.Message);
    }

    [Fact]
    public void Plans_round_trip_through_yaml()
    {
        var c = Fixtures.Cluster(2, 4);
        var w = Fixtures.Workload();
        var plan = Fixtures.Plan("name: mixed\ntables: {a: {scheme: row_wise, ranks: [0, 1, 2, 3, 4, 5, 6, 7]}, b: {scheme: table_wise, ranks: [5]}, c: {scheme: data_parallel}, d: {scheme: column_wise, ranks: [2, 6]}}", w, c);
        var again = Fixtures.Plan(PlanLoader.ToYaml(plan), w, c);
        Assert.Equal(plan.Name, again.Name);
        Assert.Equal(plan.Tables.Count, again.Tables.Count);
        for (var i = 0; i < plan.Tables.Count; i++)
        {
            Assert.Equal(plan.Tables[i].Scheme, again.Tables[i].Scheme);
            Assert.Equal(plan.Tables[i].Shards, again.Tables[i].Shards);
        }
    }
}
