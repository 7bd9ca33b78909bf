using Sim.Config;
using Sim.Cost;
using Sim.Sharding;
using Sim.Predictions;
using Sim.Workload;
using Sim.Planning;

namespace Sim.Tests;

public class PlannerTests
{
    public static TheoryData<string, int, int> PlannersAndShapes()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var p in Scenario.Planners)
            foreach (var (n, g) in new[] { (1, 1), (1, 4), (2, 4), (16, 8) })
                data.Add(p, n, g);
        return data;
    }

    private static PlannerContext Context(Sim.Topology.Cluster c, Sim.Workload.DlrmWorkload w, double seconds = 1) =>
        new(c, w, Predictor.Uncalibrated, "w.yaml", seconds);

    /// <summary>Every row and column of every table is held exactly once (replicas aside) and the plan fits.</summary>
    private static void AssertValid(Sim.Topology.Cluster c, Sim.Workload.DlrmWorkload w, ShardingPlan plan)
    {
        Assert.Equal(w.Tables.Select(t => t.Name), plan.Tables.Select(t => t.Table.Name));
        foreach (var tp in plan.Tables)
        {
            var replicas = tp.Scheme == ShardingScheme.DataParallel ? tp.Shards.Count : 1;
            Assert.Equal(tp.Table.Rows * tp.Table.Dim * replicas, tp.Shards.Sum(s => s.Elements));
            if (tp.Scheme.SplitsRows())
            {
                var ordered = tp.Shards.OrderBy(s => s.RowOffset).ToArray();
                for (var i = 1; i < ordered.Length; i++) Assert.Equal(ordered[i - 1].RowOffset + ordered[i - 1].Rows, ordered[i].RowOffset);
            }
            if (tp.Scheme.IsNodeLocal()) Assert.Single(tp.Shards.Select(s => c.NodeOf(s.Rank)).Distinct());
            Assert.All(tp.Shards, s => Assert.InRange(s.Rank, 0, c.WorldSize - 1));
        }
        MemoryModel.EnsureFits(c, MemoryModel.PerRank(c, w, plan), "plan");
    }

    [Theory]
    [MemberData(nameof(PlannersAndShapes))]
    public void Every_planner_emits_a_valid_plan(string planner, int nodes, int gpus)
    {
        var c = Fixtures.Cluster(nodes, gpus);
        var w = Fixtures.Workload();
        var result = Scenario.Planner(planner).Plan(Context(c, w, 0.5));
        AssertValid(c, w, result.Plan);
        Assert.True(result.PredictedSeconds > 0);
        Assert.Equal(result.PredictedSeconds, new Predictor(CostParameters.Default).IterationSeconds(new Scenario(c, w, result.Plan)), 12);
    }

    [Fact]
    public void Optimal_is_never_worse_than_greedy_and_beats_it_on_a_skewed_mix()
    {
        var c = Fixtures.Cluster(1, 4);
        var w = Fixtures.Workload(SkewedWorkload);
        var greedy = new GreedyPlanner().Plan(Context(c, w));
        var optimal = new OptimalPlanner().Plan(Context(c, w, 3));
        AssertValid(c, w, optimal.Plan);
        Assert.True(optimal.PredictedSeconds < greedy.PredictedSeconds, $"{optimal.PredictedSeconds} !< {greedy.PredictedSeconds}: {optimal.Summary}");
    }

    /// <summary>One very hot table among cold ones: greedy must place it whole on one GPU.</summary>
    private const string SkewedWorkload = @"
name: skewed
source: test fixture
batch_size: 8192
dense_features: 13
bottom_mlp: [64, 32]
top_mlp: [64, 1]
tables:
  - {name: hot, rows: 1000000, dim: 32, pooling_factor: 200}
  - {name: warm, count: 3, rows: 100000, dim: 32, pooling_factor: 20}
  - {name: cold, count: 8, rows: 10000, dim: 32, pooling_factor: 1}
";

    [Fact]
    public void Greedy_puts_the_largest_tables_on_different_gpus()
    {
        var c = Fixtures.Cluster(1, 4);
        var w = Fixtures.Workload();
        var plan = Fixtures.Greedy(c, w);
        Assert.Equal(4, plan.Tables.Select(t => t.Shards.Single().Rank).Distinct().Count());
    }

    [Fact]
    public void A_table_too_big_for_one_gpu_is_split()
    {
        // 100,000 x 32 fp32 = 12.8 MB: give each GPU 10 MB so only a row-wise split fits.
        var c = Fixtures.Cluster(1, 4, hbm: 10e6);
        var w = Fixtures.Workload();
        foreach (var planner in Scenario.Planners)
        {
            var plan = Scenario.Planner(planner).Plan(Context(c, w, 0.3)).Plan;
            var a = plan.Tables.Single(t => t.Table.Name == "a");
            // Split over GPUs (row-wise, or column-wise where the optimal planner finds it faster), every cell once.
            Assert.True(a.Shards.Count > 1 && a.Scheme is not ShardingScheme.DataParallel, planner);
            Assert.Equal(100000L * 32, a.Shards.Sum(s => s.Elements));
            AssertValid(c, w, plan);
        }
    }

    [Fact]
    public void A_table_too_big_for_all_gpus_spills_to_uvm()
    {
        // 2 GPUs of 6.5 MB cannot hold 12.8 MB (plus Adagrad state) even split; host memory can.
        var c = Fixtures.Cluster(1, 2, hbm: 6.5e6);
        var w = Fixtures.Workload();
        var plan = Fixtures.Greedy(c, w);
        var a = plan.Tables.Single(t => t.Table.Name == "a");
        Assert.NotEqual(MemoryTier.Hbm, a.Tier);
        AssertValid(c, w, plan);
        // UVM lookups are slower than HBM ones: the same plan in HBM on big GPUs predicts faster lookups.
        var big = Fixtures.Cluster(1, 2);
        var inHbm = plan with { Tables = plan.Tables.Select(t => t.InTier(MemoryTier.Hbm)).ToArray() };
        var slow = new Predictor(CostParameters.Default).Predict(new Scenario(big, w, plan), PredictionMode.Analytical);
        var fast = new Predictor(CostParameters.Default).Predict(new Scenario(big, w, inHbm), PredictionMode.Analytical);
        Assert.True(slow.Phases.Single(p => p.Name == "embedding_lookup").Seconds > fast.Phases.Single(p => p.Name == "embedding_lookup").Seconds);
    }

    [Fact]
    public void A_table_that_fits_nowhere_is_a_clear_error()
    {
        var c = Fixtures.Cluster(1, 2, hbm: 5e6, ddr: 1e6);
        var w = Fixtures.Workload();
        var e = Assert.Throws<SimInputException>(() => Fixtures.Greedy(c, w));
        // The tables cannot fit even with every one HBM cannot hold in host DDR: one line naming the tier short and by how much.
        Assert.Contains("does not fit", e.Message);
        Assert.Matches(@"host DDR short by .* \(\d+ bytes\)", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void Plans_round_trip_through_yaml()
    {
        var c = Fixtures.Cluster(2, 4);
        var w = Fixtures.Workload();
        var plan = Fixtures.Plan("name: mixed\nschedule: {all_reduce_buckets: 2, pipeline_embeddings: true}\ntables: {a: {scheme: table_row_wise, ranks: [4, 5, 6, 7], memory: uvm_caching, cache_fraction: 0.25}, b: {scheme: table_wise, ranks: [5], memory: uvm}, c: {scheme: data_parallel}, d: {scheme: table_column_wise, ranks: [2, 3]}}", w, c);
        var again = Fixtures.Plan(PlanLoader.ToYaml(plan), w, c);
        Assert.Equal(plan.Name, again.Name);
        Assert.Equal(plan.Schedule, again.Schedule);
        for (var i = 0; i < plan.Tables.Count; i++)
        {
            Assert.Equal(plan.Tables[i].Scheme, again.Tables[i].Scheme);
            Assert.Equal(plan.Tables[i].Tier, again.Tables[i].Tier);
            Assert.Equal(plan.Tables[i].CacheFraction, again.Tables[i].CacheFraction);
            Assert.Equal(plan.Tables[i].Shards, again.Tables[i].Shards);
        }
    }

    [Fact]
    public void Node_local_schemes_must_stay_on_one_node()
    {
        var c = Fixtures.Cluster(2, 4);
        var w = Fixtures.Workload();
        var e = Assert.Throws<SimInputException>(() => Fixtures.Plan("tables: {a: {scheme: table_row_wise, ranks: [2, 3, 4, 5]}, b: {scheme: table_wise, ranks: [5]}, c: {scheme: data_parallel}, d: {scheme: table_wise, ranks: [2]}}", w, c));
        Assert.Contains("keeps a table on one node", e.Message);
    }
}

public class TorchRecPlanTests
{
    [Fact]
    public void Export_then_import_round_trips_and_keeps_uneven_splits()
    {
        var c = Fixtures.Cluster(2, 4);
        var w = Fixtures.Workload();
        var plan = Fixtures.Plan("name: mixed\ntables: {a: {scheme: row_wise, ranks: [0, 1, 2, 3, 4, 5, 6, 7], splits: [30000, 10000, 10000, 10000, 10000, 10000, 10000, 10000]}, b: {scheme: table_wise, ranks: [5], memory: uvm_caching, cache_fraction: 0.3}, c: {scheme: data_parallel}, d: {scheme: table_column_wise, ranks: [2, 3]}}", w, c);
        using var dir = new Fixtures.TempDir();
        var json = Sim.Sharding.TorchRecPlan.Export(plan, c);
        var back = Sim.Sharding.TorchRecPlan.Import(dir.Write("p.json", json), w, c);
        Assert.Equal(json, Sim.Sharding.TorchRecPlan.Export(back, c));
        var yaml = PlanLoader.ToYaml(back);
        Assert.Contains("splits: [30000, 10000", yaml);
        var again = Fixtures.Plan(yaml, w, c);
        for (var i = 0; i < plan.Tables.Count; i++)
        {
            Assert.Equal(plan.Tables[i].Shards, again.Tables[i].Shards);
            Assert.Equal(plan.Tables[i].Tier, again.Tables[i].Tier);
        }
        Assert.Contains("\"sharding_type\": \"table_column_wise\"", json);
        Assert.Contains("\"compute_kernel\": \"fused_uvm_caching\"", json);
        Assert.Contains("\"placement\": \"rank:5/cuda:1\"", json);
    }

    [Fact]
    public void Overlapping_shards_are_refused_with_the_field()
    {
        var c = Fixtures.Cluster(1, 2);
        var w = Fixtures.Workload();
        var plan = Fixtures.Plan("tables: {a: {scheme: row_wise, ranks: [0, 1]}, b: {scheme: table_wise, ranks: [1]}, c: {scheme: data_parallel}, d: {scheme: table_wise, ranks: [0]}}", w, c);
        var json = Sim.Sharding.TorchRecPlan.Export(plan, c).Replace("\"shard_offsets\": [\n              50000", "\"shard_offsets\": [\n              40000");
        using var dir = new Fixtures.TempDir();
        var path = dir.Write("bad.json", json);
        var r = CliRunner.Run("torchrec", "import", dir.Write("t.yaml", Fixtures.TopologyYaml(1, 2)), dir.Write("w.yaml", Fixtures.WorkloadYaml), path);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("tables.a", r.Stderr);
    }
}
