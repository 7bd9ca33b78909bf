using Sim.Accounting;
using Sim.Config;
using Sim.Cost;
using Sim.Iterations;
using Sim.Predictions;
using Sim.Sharding;
using Sim.Topology;
using Sim.Planning;

namespace Sim.Tests;

/// <summary>The SSD memory tier: rows on the node's SSD with a host-DDR cache of a fraction of them (topology `host.ssd`).</summary>
public class SsdTierTests
{
    /// <summary>The fixture topology with an SSD in `host:`.</summary>
    private static string SsdTopologyYaml(int nodes, int gpus, double hbm = 40e9, double ddr = 1e12, double ssdBytes = 1e12,
        double readBytesPerSecond = 2e9, double writeBytesPerSecond = 1e9, long minIoBytes = 4096) =>
        Fixtures.TopologyYaml(nodes, gpus, hbmBytes: hbm, ddrBytes: ddr).Replace("ddr_bytes_per_second: 2e11, source: test}",
            $"ddr_bytes_per_second: 2e11, source: test,\n  ssd: {{capacity_bytes: {ssdBytes:R}, read_bytes_per_second: {readBytesPerSecond:R}, " +
            $"write_bytes_per_second: {writeBytesPerSecond:R}, min_io_bytes: {minIoBytes}, source: test}}}}");

    private static Cluster SsdCluster(int nodes, int gpus, double hbm = 40e9, double ddr = 1e12, double ssdBytes = 1e12, double read = 2e9, double write = 1e9) =>
        TopologyLoader.Parse(SsdTopologyYaml(nodes, gpus, hbm, ddr, ssdBytes, read, write), "t.yaml");

    // One table, plain SGD (no optimizer state): 4,096 samples x 8 lookups.
    private static string OneTable(int dim, string access = "") => $@"
name: one
source: test fixture
batch_size: 4096
dense_features: 13
bottom_mlp: [64, {dim}]
top_mlp: [64, 1]
optimizer: sgd
tables:
  - {{name: a, rows: 1000000, dim: {dim}, pooling_factor: 8{access}}}
";

    private static ShardingPlan Plan(Cluster c, Sim.Workload.DlrmWorkload w, string memory) =>
        Fixtures.Plan($"tables: {{a: {{scheme: table_wise, ranks: [0], {memory}}}}}", w, c);

    private static double Seconds(IterationGraph g, string phase) => g.Tasks.Where(t => t.Phase == phase).Sum(t => t.SecondsFor(0));

    [Theory]
    [InlineData(32)]   // 128-byte rows: each read costs a 4 KiB page
    [InlineData(2048)] // 8 KiB rows: more than a page, read as they are
    public void With_no_ddr_cache_every_lookup_reads_max_of_row_and_page_from_the_ssd(int dim)
    {
        var c = SsdCluster(1, 1, read: 2e9, write: 1e9);
        var w = Fixtures.Workload(OneTable(dim));
        var ssd = Plan(c, w, "memory: ssd, cache_fraction: 0");
        const double lookups = 4096.0 * 8;
        var pageBytes = Math.Max(dim * 4.0, 4096);
        var work = EmbeddingWork.Compute(c, w, ssd);
        Assert.Equal(lookups * pageBytes, work.SsdReadBytes[0], 6);
        Assert.Equal(lookups * pageBytes, work.SsdWriteBytes[0], 6);
        // The lookup costs what plain UVM costs (the host link) plus the SSD's reads: lookups x max(row, page) / read bandwidth.
        var p = CostParameters.Default;
        var gSsd = IterationGraph.Build(c, w, ssd, p);
        var gUvm = IterationGraph.Build(c, w, Plan(c, w, "memory: uvm"), p);
        Assert.Equal(lookups * pageBytes / 2e9, Seconds(gSsd, Phases.EmbeddingLookup) - Seconds(gUvm, Phases.EmbeddingLookup), 9);
        Assert.Equal(lookups * pageBytes / 1e9, Seconds(gSsd, Phases.EmbeddingBackward) - Seconds(gUvm, Phases.EmbeddingBackward), 9);
    }

    [Fact]
    public void A_node_s_gpus_share_its_ssd_bandwidth()
    {
        // 4 GPUs on one node: a rank's SSD traffic gets a quarter of the node's read and write bandwidth, as host DDR's.
        var c = SsdCluster(1, 4, read: 2e9, write: 1e9);
        Assert.Equal(1e9 * 4 / 2e9, ComputeCost.SsdReadSeconds(c, 1e9), 12);
        Assert.Equal(1e9 * 4 / 1e9, ComputeCost.SsdWriteSeconds(c, 1e9), 12);
        Assert.Equal(0, ComputeCost.SsdReadSeconds(Fixtures.Cluster(1, 4), 0));
    }

    [Fact]
    public void A_torchrec_plan_carries_the_ssd_tier_as_key_value_with_its_cache()
    {
        var c = SsdCluster(1, 2);
        var w = Fixtures.Workload(OneTable(32));
        var plan = Fixtures.Plan("tables: {a: {scheme: table_wise, ranks: [1], memory: ssd, cache_fraction: 0.3}}", w, c);
        using var dir = new Fixtures.TempDir();
        var json = TorchRecPlan.Export(plan, c);
        Assert.Contains("\"key_value\"", json);
        var again = TorchRecPlan.Import(dir.Write("p.json", json), w, c).Tables.Single();
        Assert.Equal((MemoryTier.Ssd, 0.3), (again.Tier, again.CacheFraction));
        var noSsd = Assert.Throws<SimInputException>(() => TorchRecPlan.Import(dir.Write("p.json", json), w, Fixtures.Cluster(1, 2)));
        Assert.Contains("host.ssd", noSsd.Message);
    }

    [Fact]
    public void A_ddr_cache_serves_the_hit_rate_of_the_table_s_skew_and_the_ssd_reads_the_rest()
    {
        var c = SsdCluster(1, 1);
        var w = Fixtures.Workload(OneTable(32, ", access: {zipf: 1.1}"));
        var t = w.Tables[0];
        var hit = CacheModel.HitRate(t, 0.1);
        Assert.True(hit > 0.5, $"Zipf 1.1 with 10 % of the rows cached hits {hit}");
        var work = EmbeddingWork.Compute(c, w, Plan(c, w, "memory: ssd, cache_fraction: 0.1"));
        Assert.Equal((1 - hit) * 4096.0 * 8 * 4096, work.SsdReadBytes[0], 6);
        // Every lookup still crosses the host link (hits from the DDR cache, misses once staged in DDR).
        Assert.Equal(4096.0 * 8 * 128, work.HostForwardBytes[0], 6);
    }

    [Fact]
    public void More_ssd_bandwidth_is_never_slower()
    {
        var w = Fixtures.Workload(OneTable(32, ", access: {zipf: 0.8}"));
        var previous = double.PositiveInfinity;
        foreach (var bw in new[] { 0.5e9, 1e9, 2e9, 4e9, 8e9, 16e9, 64e9 })
        {
            var c = SsdCluster(1, 1, read: bw, write: bw / 2);
            var seconds = Predictor.Uncalibrated.IterationSeconds(new Scenario(c, w, Plan(c, w, "memory: ssd, cache_fraction: 0.05")));
            Assert.True(seconds <= previous, $"{bw:0.#e0} B/s: {seconds} s after {previous} s");
            previous = seconds;
        }
    }

    [Fact]
    public void Ssd_bytes_and_ddr_cache_bytes_are_counted_per_node()
    {
        // 2 nodes x 2 GPUs; table a (1,000,000 x 32 fp32 = 128 MB) row-wise over ranks 0 and 1, both on node 0.
        var c = SsdCluster(2, 2);
        var w = Fixtures.Workload(OneTable(32));
        var plan = Fixtures.Plan("tables: {a: {scheme: row_wise, ranks: [0, 1], memory: ssd, cache_fraction: 0.25}}", w, c);
        var use = MemoryModel.PerRank(c, w, plan);
        Assert.Equal(128_000_000L, use.Take(2).Sum(u => u.SsdBytes));
        Assert.Equal(32_000_000L, use.Take(2).Sum(u => u.HostBytes));
        Assert.All(use.Skip(2), u => Assert.Equal(0, u.SsdBytes + u.HostBytes));
        Assert.All(use, u => Assert.True(u.EmbeddingBytes == 0)); // no rows in HBM
        MemoryModel.EnsureFits(c, use, "plan.yaml");
    }

    [Fact]
    public void A_plan_that_overflows_a_node_s_ssd_is_one_line_with_the_bytes_short_and_exit_2()
    {
        using var dir = new Fixtures.TempDir();
        var topo = dir.Write("t.yaml", SsdTopologyYaml(1, 2, ssdBytes: 100e6));
        var work = dir.Write("w.yaml", OneTable(32));
        var plan = dir.Write("p.yaml", "tables: {a: {scheme: table_wise, ranks: [1], memory: ssd, cache_fraction: 0}}");
        var run = CliRunner.Run("predict", topo, work, plan);
        Assert.Equal(2, run.ExitCode);
        Assert.Single(run.Stderr.Trim().Split('\n'));
        Assert.Contains("short by 28000000 bytes on node 0's SSD", run.Stderr);
    }

    [Fact]
    public void Ssd_on_a_topology_without_one_is_an_error_at_the_plan_field()
    {
        var c = Fixtures.Cluster(1, 1);
        var w = Fixtures.Workload(OneTable(32));
        var e = Assert.Throws<SimInputException>(() => Plan(c, w, "memory: ssd"));
        Assert.Contains("memory", e.Field);
        Assert.Contains("host.ssd", e.Message);
    }

    [Fact]
    public void The_plan_yaml_round_trips_the_ssd_tier_and_its_cache_fraction()
    {
        var c = SsdCluster(1, 2);
        var w = Fixtures.Workload(OneTable(32));
        var plan = Fixtures.Plan("tables: {a: {scheme: table_wise, ranks: [1], memory: ssd, cache_fraction: 0.05}}", w, c);
        var yaml = PlanLoader.ToYaml(plan);
        Assert.Contains("memory: ssd, cache_fraction: 0.05", yaml);
        var again = Fixtures.Plan(yaml, w, c).Tables.Single();
        Assert.Equal(MemoryTier.Ssd, again.Tier);
        Assert.Equal(0.05, again.CacheFraction);
        Assert.Equal(0, again.HbmFraction);
        Assert.Equal(0.05, again.DdrFraction);
    }

    private const string Skewed = TierPlanningTests.SkewedWorkload;

    [Fact]
    public void A_model_too_big_for_hbm_and_ddr_goes_to_ssd_with_every_planner_and_predict_names_the_tier()
    {
        // 2 GPUs with 10 MB of HBM each and 5 MB of host DDR: the 26 MB table fits only with the SSD.
        var c = SsdCluster(1, 2, hbm: 10e6, ddr: 5e6, ssdBytes: 1e9);
        var w = Fixtures.Workload(Skewed);
        foreach (var planner in Scenario.Planners)
        {
            var result = Scenario.Planner(planner).Plan(new PlannerContext(c, w, Predictor.Uncalibrated, "w.yaml", 0.5));
            var big = result.Plan.Tables.Single(t => t.Table.Name == "big");
            Assert.Equal(MemoryTier.Ssd, big.Tier);
            Assert.InRange(big.CacheFraction, 0, 0.9);
            MemoryModel.EnsureFits(c, MemoryModel.PerRank(c, w, result.Plan), planner);
            Assert.True(double.IsFinite(result.PredictedSeconds) && result.PredictedSeconds > 0, planner);
            Assert.Contains(" ssd (DDR cache fraction", result.Summary);
        }
        using var dir = new Fixtures.TempDir();
        var run = CliRunner.Run("predict", dir.Write("t.yaml", SsdTopologyYaml(1, 2, hbm: 10e6, ddr: 5e6, ssdBytes: 1e9)), dir.Write("w.yaml", Skewed));
        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"memory tiers: +tables per tier: .*1 ssd \(DDR cache fraction [0-9.]+, hit rate [0-9.]+ %\)", run.Stdout);
    }

    [Fact]
    public void Without_an_ssd_or_with_one_too_small_the_model_fits_nowhere_naming_each_tier_short()
    {
        var w = Fixtures.Workload(Skewed);
        var ctx = (Cluster c) => new PlannerContext(c, w, Predictor.Uncalibrated, "w.yaml", 0.5);
        var noSsd = Assert.Throws<SimInputException>(() => Scenario.Planner("greedy").Plan(ctx(Fixtures.Cluster(1, 2, hbm: 10e6, ddr: 5e6))));
        Assert.Matches(@"host DDR short by [0-9.]+ [kMG]?B \(\d+ bytes\)", noSsd.Message);
        Assert.DoesNotContain("SSD", noSsd.Message);
        var small = Assert.Throws<SimInputException>(() => Scenario.Planner("greedy").Plan(ctx(SsdCluster(1, 2, hbm: 10e6, ddr: 5e6, ssdBytes: 1e6))));
        Assert.Matches(@"SSD short by [0-9.]+ [kMG]?B \(\d+ bytes\)", small.Message);
        Assert.DoesNotContain("\n", small.Message);
    }

    [Fact]
    public void A_model_that_fits_hbm_and_ddr_never_goes_to_ssd()
    {
        // The UVM-caching case of TierPlanningTests, now with an SSD available: nothing moves to it.
        var c = SsdCluster(1, 2, hbm: 10e6);
        var w = Fixtures.Workload(Skewed);
        foreach (var planner in Scenario.Planners)
        {
            var plan = Scenario.Planner(planner).Plan(new PlannerContext(c, w, Predictor.Uncalibrated, "w.yaml", 0.5)).Plan;
            Assert.DoesNotContain(plan.Tables, t => t.Tier == MemoryTier.Ssd);
            Assert.Equal(MemoryTier.UvmCaching, plan.Tables.Single(t => t.Table.Name == "big").Tier);
        }
    }

    private static CliRunner.Result PredictWith(string topology)
    {
        using var dir = new Fixtures.TempDir();
        return CliRunner.Run("predict", dir.Write("topo.yaml", topology), dir.Write("work.yaml", Fixtures.WorkloadYaml));
    }

    [Theory]
    [InlineData("read_bytes_per_second: 2000000000", "read_bytes_per_second: 0", "host.ssd.read_bytes_per_second", "must be positive")]
    [InlineData("write_bytes_per_second: 1000000000", "write_bytes_per_second: -1e9", "host.ssd.write_bytes_per_second", "must be positive")]
    [InlineData("min_io_bytes: 4096", "min_io_bytes: 4096, iops: 1e6", "host.ssd.iops", "unknown field")]
    [InlineData("min_io_bytes: 4096, ", "", "host.ssd.min_io_bytes", "required field is missing")]
    public void Bad_ssd_fields_are_exit_2_with_file_line_and_field(string good, string bad, string field, string problem)
    {
        var yaml = SsdTopologyYaml(1, 4);
        Assert.Contains(good, yaml);
        var r = PredictWith(yaml.Replace(good, bad));
        Assert.Equal(2, r.ExitCode);
        var line = r.Stderr.TrimEnd('\n');
        Assert.DoesNotContain('\n', line);
        Assert.Matches(@"topo\.yaml:\d+", line);
        Assert.Contains(field, line);
        Assert.Contains(problem, line);
    }

    [Fact]
    public void The_zionex_topologies_carry_an_assumed_ssd_and_the_loader_reads_it()
    {
        foreach (var file in new[] { "topologies/zionex-16node.yaml", "topologies/zionex-256node.yaml" })
        {
            var ssd = TopologyLoader.Load(Fixtures.Repo(file)).Host.Ssd;
            Assert.NotNull(ssd);
            Assert.Equal(16e12, ssd.CapacityBytes);
            Assert.Equal(10.5e9, ssd.ReadBytesPerSecond);
            Assert.Equal(7.2e9, ssd.WriteBytesPerSecond);
            Assert.Equal(4096, ssd.MinIoBytes);
            Assert.Contains("assumed (unverified)", ssd.Provenance.Source);
        }
        Assert.Null(Fixtures.Cluster(1, 1).Host.Ssd);
    }
}
