using Sim.Config;
using Sim.Cost;
using Sim.Predictions;
using Sim.Sharding;
using Sim.Planning;

namespace Sim.Tests;

/// <summary>Planners place tables over memory tiers (HBM, UVM caching with a chosen cache fraction, UVM) when HBM runs out.</summary>
public class TierPlanningTests
{
    /// <summary>One skewed 200,000 x 32 fp32 table (25.6 MB + 0.8 MB Adagrad state) beside three small ones (shared with the SSD tests).</summary>
    public const string SkewedWorkload = @"
name: skewed
source: test fixture
batch_size: 1024
dense_features: 13
bottom_mlp: [64, 32]
top_mlp: [64, 1]
optimizer: rowwise_adagrad
tables:
  - {name: big, rows: 200000, dim: 32, pooling_factor: 10, access: {zipf: 1.1}}
  - {name: b, rows: 5000, dim: 32, pooling_factor: 2}
  - {name: c, rows: 800, dim: 32, pooling_factor: 1}
  - {name: d, rows: 20000, dim: 32, pooling_factor: 4}
";

    private static PlannerContext Context(Sim.Topology.Cluster c, Sim.Workload.DlrmWorkload w, double seconds = 0.5) =>
        new(c, w, Predictor.Uncalibrated, "w.yaml", seconds);

    [Fact]
    public void Tables_that_fit_in_hbm_stay_there()
    {
        var c = Fixtures.Cluster(1, 2);
        var w = Fixtures.Workload(SkewedWorkload);
        Assert.True(new RankLoads(Context(c, w)).Tiers.IsAllHbm);
        foreach (var planner in Scenario.Planners)
            Assert.All(Scenario.Planner(planner).Plan(Context(c, w)).Plan.Tables, tp => Assert.Equal(MemoryTier.Hbm, tp.Tier));
    }

    [Fact]
    public void When_hbm_cannot_hold_a_table_every_planner_picks_a_uvm_cache_with_a_fraction_and_predicts()
    {
        // 2 GPUs with 10 MB of HBM each: the 26 MB table cannot be in HBM whole, split or not; host DDR holds it.
        var c = Fixtures.Cluster(1, 2, hbm: 10e6);
        var w = Fixtures.Workload(SkewedWorkload);
        foreach (var planner in Scenario.Planners)
        {
            var result = Scenario.Planner(planner).Plan(Context(c, w));
            var big = result.Plan.Tables.Single(t => t.Table.Name == "big");
            Assert.Equal(MemoryTier.UvmCaching, big.Tier);
            Assert.InRange(big.CacheFraction, 0.001, 0.95);
            Assert.True(CacheModel.HitRate(big.Table, big.CacheFraction) > big.CacheFraction, planner); // skew pays
            MemoryModel.EnsureFits(c, MemoryModel.PerRank(c, w, result.Plan), "plan");
            Assert.True(double.IsFinite(result.PredictedSeconds) && result.PredictedSeconds > 0, planner);
            Assert.Contains("uvm_caching", result.Summary);
        }
    }

    [Fact]
    public void The_tier_choice_prices_each_share_and_spends_hbm_where_it_saves_most()
    {
        // The same table twice, one uniform and one Zipf-skewed, and HBM for one of them and a bit: the skewed one goes to a
        // UVM cache (a tenth of its rows serves most of its lookups) and the uniform one, which a cache would help only
        // in proportion, stays in HBM.
        var yaml = SkewedWorkload.Replace("  - {name: b, rows: 5000, dim: 32, pooling_factor: 2}\n", "  - {name: flat, rows: 200000, dim: 32, pooling_factor: 10}\n");
        var w = Fixtures.Workload(yaml);
        var c = Fixtures.Cluster(1, 2, hbm: 20e6);
        var tiers = new RankLoads(Context(c, w)).Tiers;
        Assert.False(tiers.IsAllHbm);
        var skewed = tiers.ShareOf(w.Tables.Single(t => t.Name == "big"));
        var flat = tiers.ShareOf(w.Tables.Single(t => t.Name == "flat"));
        Assert.Equal(1, flat);
        Assert.InRange(skewed, 0.001, 0.5);
        Assert.True(CacheModel.HitRate(w.Tables.Single(t => t.Name == "big"), skewed) > 0.5);
    }

    [Fact]
    public void A_model_the_host_cannot_hold_is_one_line_naming_the_tier_and_the_bytes_short()
    {
        var c = Fixtures.Cluster(1, 2, hbm: 10e6, ddr: 5e6);
        var w = Fixtures.Workload(SkewedWorkload);
        foreach (var planner in Scenario.Planners)
        {
            var e = Assert.Throws<SimInputException>(() => Scenario.Planner(planner).Plan(Context(c, w)));
            Assert.Matches(@"host DDR short by [0-9.]+ [kMG]?B \(\d+ bytes\)", e.Message);
            Assert.DoesNotContain("\n", e.Message);
        }
        using var dir = new Fixtures.TempDir();
        var topo = dir.Write("t.yaml", Fixtures.TopologyYaml(1, 2, hbmBytes: 10e6, ddrBytes: 5e6));
        var work = dir.Write("w.yaml", SkewedWorkload);
        var run = CliRunner.Run("predict", topo, work);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("host DDR short by", run.Stderr);
        Assert.Single(run.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Predict_names_the_tiers_it_chose()
    {
        using var dir = new Fixtures.TempDir();
        var topo = dir.Write("t.yaml", Fixtures.TopologyYaml(1, 2, hbmBytes: 10e6));
        var work = dir.Write("w.yaml", SkewedWorkload);
        var run = CliRunner.Run("predict", topo, work);
        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"memory tiers: +tables per tier: 3 hbm, 1 uvm_caching \(cache fraction [0-9.]+, hit rate [0-9.]+ %\)", run.Stdout);
    }

    [Fact]
    public void Every_planner_handles_model_f_on_a_zionex_pod()
    {
        // 12 T parameters (12.4 TB of int8 rows) on 128 A100s with 5.1 TB of HBM and 24 TB of host DDR.
        var c = Sim.Topology.TopologyLoader.Load(Fixtures.Repo("topologies/zionex-16node.yaml"));
        var w = Sim.Workload.WorkloadLoader.Load(Fixtures.Repo("workloads/zionex-model-f.yaml"));
        var seconds = new Dictionary<string, double>();
        foreach (var planner in Scenario.Planners)
        {
            var result = Scenario.Planner(planner).Plan(Context(c, w, 1));
            Assert.Contains(result.Plan.Tables, tp => tp.Tier != MemoryTier.Hbm);
            MemoryModel.EnsureFits(c, MemoryModel.PerRank(c, w, result.Plan), planner);
            Assert.True(double.IsFinite(result.PredictedSeconds) && result.PredictedSeconds > 0, planner);
            seconds[planner] = result.PredictedSeconds;
        }
        Assert.True(seconds["optimal"] <= seconds["greedy"]);
    }
}
