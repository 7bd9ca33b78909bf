using Sim.Accounting;
using Sim.Cost;
using Sim.Sharding;
using Sim.Workload;
using Sim.Predictions;
using Sim.Iterations;

namespace Sim.Tests;

public class InvariantTests
{
    private const string MixedPlan = "tables: {a: {scheme: row_wise, ranks: [0, 1, 2, 3, 4, 5, 6, 7]}, b: {scheme: table_wise, ranks: [5]}, c: {scheme: data_parallel}, d: {scheme: column_wise, ranks: [2, 6]}}";

    private static Prediction Predict(Sim.Topology.Cluster c, DlrmWorkload w, ShardingPlan p) =>
        Predictor.Uncalibrated.Predict(new Scenario(c, w, p), PredictionMode.Analytical);

    [Fact]
    public void A_one_gpu_plan_has_no_communication()
    {
        var c = Fixtures.Cluster(1, 1);
        var w = Fixtures.Workload();
        var plan = Fixtures.Greedy(c, w);
        var p = Predict(c, w, plan);
        Assert.All(p.Phases.Where(x => x.IsCommunication), x => Assert.Equal(0, x.Seconds));
        Assert.Equal(0, p.ExposedCommunicationSeconds);
        Assert.True(p.IterationSeconds > 0);
    }

    [Fact]
    public void Doubling_nic_bandwidth_never_slows_a_prediction()
    {
        var w = Fixtures.Workload();
        foreach (var nic in new[] { 1e9, 5e9, 12.5e9, 25e9, 50e9, 100e9 })
        {
            var slow = Fixtures.Cluster(2, 4, nic);
            var fast = Fixtures.Cluster(2, 4, 2 * nic);
            foreach (var planText in new[] { MixedPlan, null })
            {
                var plan = planText is null ? Fixtures.Greedy(slow, w) : Fixtures.Plan(planText, w, slow);
                var a = Predict(slow, w, plan).IterationSeconds;
                var b = Predict(fast, w, plan).IterationSeconds;
                Assert.True(b <= a, $"NIC {nic}: {b} > {a}");
            }
        }
    }

    [Fact]
    public void Bytes_sent_equal_bytes_received_and_each_rank_gets_its_pooled_vectors()
    {
        var c = Fixtures.Cluster(2, 4);
        var w = Fixtures.Workload();
        var plan = Fixtures.Plan(MixedPlan, w, c);
        var work = EmbeddingWork.Compute(c, w, plan);
        foreach (var demand in new[] { work.InputDistribution, work.PooledElements, work.PooledElements.Transposed() })
        {
            var t = demand.PerRank(c);
            Assert.Equal(t.Sum(x => x.Sent), t.Sum(x => x.Received), 6);
            Assert.Equal(demand.NetworkBytes(), t.Sum(x => x.Sent), 6);
        }
        // Forward: every rank receives b x dim pooled elements of each non-data-parallel table from its
        // owners (row-wise: one partial per shard), less what it owns itself.
        var b = 1024.0 / 8;
        var perRank = work.PooledElements.PerRank(c);
        for (var r = 0; r < 8; r++)
        {
            double expected = 0;
            foreach (var tp in plan.Tables.Where(t => t.Scheme != ShardingScheme.DataParallel))
                foreach (var s in tp.Shards.Where(s => s.Rank != r))
                    expected += b * s.Columns;
            Assert.Equal(expected, perRank[r].Received, 6);
        }
    }

    [Fact]
    public void Phases_add_up_to_the_iteration_which_lies_between_the_busiest_rank_and_a_barrier_per_phase()
    {
        var c = Fixtures.Cluster(2, 4);
        var w = Fixtures.Workload();
        var plan = Fixtures.Plan(MixedPlan, w, c);
        var graph = IterationGraph.Build(c, w, plan, CostParameters.Default);
        var p = Predict(c, w, plan);
        Assert.Equal(p.IterationSeconds, p.Phases.Sum(x => x.Seconds), 12);
        Assert.Equal(p.IterationSeconds, p.CriticalPath.Sum(x => x.Seconds), 12);
        // Sequential schedule: each rank's own work is a chain, so the iteration is at least the busiest rank...
        Assert.All(p.Ranks, r => Assert.True(r.ComputeSeconds + r.CommunicationSeconds <= p.IterationSeconds * (1 + 1e-12)));
        // ...and at most what a barrier after every phase would give (a rank waits only for its own collective part).
        var barrier = Phases.All.Sum(ph => graph.Tasks.Where(t => t.Phase == ph).Max(t => t.Seconds));
        Assert.True(p.IterationSeconds <= barrier * (1 + 1e-12));
    }

    [Fact]
    public void A_rank_with_more_lookups_is_slower_in_the_lookup_phase()
    {
        var c = Fixtures.Cluster(1, 2);
        var w = Fixtures.Workload();
        // Table a (pooling 10) on rank 0, table d (pooling 4) on rank 1: same shape otherwise.
        var plan = Fixtures.Plan("tables: {a: {scheme: table_wise, ranks: [0]}, b: {scheme: data_parallel}, c: {scheme: data_parallel}, d: {scheme: table_wise, ranks: [1]}}", w, c);
        var graph = IterationGraph.Build(c, w, plan, CostParameters.Default);
        var lookups = graph.Tasks.Where(t => t.Phase == Phases.EmbeddingLookup).OrderBy(t => t.Rank).ToArray();
        Assert.True(lookups[0].Seconds > lookups[1].Seconds);
    }

    [Fact]
    public void Reduced_precision_all_to_all_is_never_slower()
    {
        var c = Fixtures.Cluster(2, 4);
        var fp32 = Fixtures.Workload();
        var fp16 = Fixtures.Workload(Fixtures.WorkloadYaml.Replace("optimizer: rowwise_adagrad", "optimizer: rowwise_adagrad\nprecision: {all_to_all_forward: fp16, all_to_all_backward: fp16}"));
        var plan32 = Fixtures.Plan(MixedPlan, fp32, c);
        var plan16 = Fixtures.Plan(MixedPlan, fp16, c);
        var a = Predict(c, fp32, plan32);
        var b = Predict(c, fp16, plan16);
        Assert.True(b.Phases.Single(x => x.Name == Phases.AllToAllForward).Seconds < a.Phases.Single(x => x.Name == Phases.AllToAllForward).Seconds);
        Assert.True(b.IterationSeconds < a.IterationSeconds);
    }
}
