using Sim.Engine;
using Sim.Sharding;
using Sim.Workload;
using Sim.Iterations;

namespace Sim.Tests;

/// <summary>
/// The event engine's coalescing of large clusters (GPU classes of alike load, node groups) against exact flows,
/// and the pieces it rests on: weighted max-min sharing and load-sorted partitions.
/// </summary>
public class CoalescingTests
{
    // 16 nodes x 8 GPUs, a generated power-law model placed by greedy: uneven per-GPU loads, as at scale.
    private static (Topology.Cluster, IterationGraph, Cost.CostParameters) Uneven()
    {
        var c = Fixtures.Cluster(16, 8, hbm: 80e9);
        var w = WorkloadGenerator.Generate(new GeneratorOptions(600, 2e9, 7) { Dims = [16], BatchSize = 64L * c.WorldSize });
        var p = Cost.CostParameters.Default;
        return (c, IterationGraph.Build(c, w, Fixtures.Greedy(c, w), p), p);
    }

    private static double Seconds(EngineRun run, IterationGraph g, string phase) =>
        g.Tasks.Where(t => t.Phase == phase).Max(t => run.Timeline.Finish[t.Id] - run.Timeline.Start[t.Id]);

    [Fact]
    public void Classes_of_one_gpu_are_the_exact_simulation()
    {
        var (c, g, p) = Uneven();
        var exact = EventEngine.Run(c, g, p, coalesceAboveRanks: int.MaxValue);
        // Classes of at most 2W / maxGroups = 1 GPU: every class pair is one GPU pair.
        var classes = EventEngine.Run(c, g, p, coalesceAboveRanks: 0, maxNodeGroups: 2 * c.WorldSize);
        Assert.Contains("classes of 1 to 1 GPUs", classes.Stats.FlowModel);
        Assert.Equal(exact.Timeline.End, classes.Timeline.End, 1e-12);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(16)]
    public void Coalesced_classes_track_exact_flows_on_an_uneven_plan(int maxGroups)
    {
        var (c, g, p) = Uneven();
        var exact = EventEngine.Run(c, g, p, coalesceAboveRanks: int.MaxValue);
        var co = EventEngine.Run(c, g, p, coalesceAboveRanks: 0, maxNodeGroups: maxGroups);
        Assert.True(co.Stats.Flows * 3 < exact.Stats.Flows, $"{co.Stats.Flows} flows against {exact.Stats.Flows}");
        Assert.InRange(co.Timeline.End, exact.Timeline.End * 0.995, exact.Timeline.End * 1.005);
        // The receiver-heavy index exchange is where averaging whole nodes (the old node-pair flows) was 40% short.
        var want = Seconds(exact, g, Phases.InputDistribution);
        Assert.InRange(Seconds(co, g, Phases.InputDistribution), want * 0.99, want * 1.01);
        Assert.Equal(co.Stats.InjectedBytes, co.Stats.DeliveredBytes, 6);
    }

    public static TheoryData<string, int> Fabrics => new()
    {
        // fabric, max node groups (8: node pairs; 4: groups of 2 nodes)
        { "fat tree 1:1", 8 },
        { "fat tree 1:1", 4 },
        { "fat tree 2:1", 8 },
        { "fat tree 2:1", 4 },
        { "fat tree 4:1", 4 },
        { "two pods 1:1, 3:1 between", 4 },
        { "rail-optimised 2:1", 4 },
        { "shared NICs 1:1", 4 },
        { "shared NICs 2:1", 8 },
    };

    [Theory]
    [MemberData(nameof(Fabrics))]
    public void On_a_fabric_graph_node_groups_track_exact_flows(string fabric, int maxGroups)
    {
        // Consecutive nodes share leaves on a fabric, so traffic there is coalesced by node groups, not GPU classes.
        // A representative flow loads switch-to-switch links as much as the traffic it stands for: without that,
        // the 2:1 fat tree came out 39% short on the iteration (it looked non-blocking).
        var (c, g, p) = FabricFixtures.HeavyRowWise(FabricFixtures.Tapered(fabric));
        var exact = EventEngine.Run(c, g, p, coalesceAboveRanks: int.MaxValue);
        var co = EventEngine.Run(c, g, p, coalesceAboveRanks: 0, maxNodeGroups: maxGroups);
        // GPU classes at the NICs and node groups in the core; with shared NICs, node groups end to end.
        Assert.Equal(!fabric.StartsWith("shared"), co.Stats.FlowModel.Contains("classes"));
        Assert.Matches(fabric.StartsWith("shared") ? "node-pair flows|traffic coalesced by groups of [0-9]+ nodes" : "the fabric core by groups of [0-9]+ nodes", co.Stats.FlowModel);
        Assert.True(co.Stats.Flows < exact.Stats.Flows);
        Assert.InRange(co.Timeline.End, exact.Timeline.End * 0.99, exact.Timeline.End * 1.01);
    }

    // At 2:1 both a heavy GPU's NIC and its leaf's downlink are tight; ports and core are simulated apart, so the
    // receiver-heavy index exchange comes out up to 20% short there (node groups alone: 27%, and 39% at 1:1).
    [Theory]
    [InlineData(1.0, 0.01, 0.02)]
    [InlineData(2.0, 0.025, 0.2)]
    public void On_a_fabric_graph_classes_at_the_nics_track_exact_flows_on_an_uneven_plan(double oversubscription, double iterationTolerance, double indexTolerance)
    {
        // 8 nodes x 8 GPUs, 2 nodes per leaf, one spine (no ECMP collisions in the exact flows).
        var c = FabricFixtures.FatTreeCluster(8, 8, nodesPerLeaf: 2, oversubscription: oversubscription, spines: 1) with { Gpu = Fixtures.Cluster(8, 8, hbm: 80e9).Gpu };
        var w = WorkloadGenerator.Generate(new GeneratorOptions(600, 2e9, 7) { Dims = [16], BatchSize = 64L * c.WorldSize });
        var p = Cost.CostParameters.Default;
        var g = IterationGraph.Build(c, w, Fixtures.Greedy(c, w), p);
        var exact = EventEngine.Run(c, g, p, coalesceAboveRanks: int.MaxValue);
        var co = EventEngine.Run(c, g, p, coalesceAboveRanks: 0, maxNodeGroups: 8);
        Assert.Contains("classes", co.Stats.FlowModel);
        Assert.True(co.Stats.Flows * 4 < exact.Stats.Flows, $"{co.Stats.Flows} flows against {exact.Stats.Flows}");
        Assert.InRange(co.Timeline.End, exact.Timeline.End * (1 - iterationTolerance), exact.Timeline.End * (1 + iterationTolerance));
        var want = Seconds(exact, g, Phases.InputDistribution);
        Assert.InRange(Seconds(co, g, Phases.InputDistribution), want * (1 - indexTolerance), want * (1 + indexTolerance));
    }

    [Fact]
    public void Weighted_flows_share_a_link_in_proportion_to_their_weights()
    {
        var net = new FlowNetwork([100.0, 40.0]);
        Flow F(int id, int[] route, double weight) => new() { Id = id, Route = route, Bytes = 1e3, LatencySeconds = 0, Src = 0, Dst = 1, Owner = 0, Weight = weight };
        var a = F(0, [0, 1], 2);
        var b = F(1, [0], 1);
        var c = F(2, [1], 1);
        foreach (var f in new[] { a, b, c }) net.Add(f, 0);
        net.Recompute();
        // Link 1 (40) is the bottleneck: 40 / (2 + 1) per unit of weight; link 0 gives b what a leaves.
        Assert.Equal(80.0 / 3, a.Rate, 9);
        Assert.Equal(40.0 / 3, c.Rate, 9);
        Assert.Equal(100 - 80.0 / 3, b.Rate, 9);
    }

    [Fact]
    public void Partition_by_load_keeps_alike_loads_together_and_outliers_alone()
    {
        var p = TrafficGroups.ByLoad([5, 10, 5, 9.9, 1, 5, 9.8, 5], maxSize: 3, tolerance: 0.05);
        Assert.Equal([[1, 3, 6], [0, 2, 5], [7], [4]], p.Members);
        Assert.Equal(2, p.GroupOf(7));
        Assert.Equal(3, p.LargestSize);
    }

    [Theory]
    [InlineData(2048, 128, 16)]
    [InlineData(2000, 128, 16)]
    [InlineData(2039, 128, 1)] // a prime: no equal groups but single nodes
    [InlineData(100, 128, 1)]
    public void Node_groups_are_equal_and_about_the_requested_count(int nodes, int maxGroups, int size) =>
        Assert.Equal(size, TrafficGroups.SizeFor(nodes, maxGroups));
}

public class SplitPlacementTests
{
    [Fact]
    public void A_table_no_gpu_holds_goes_first_and_row_wise_over_the_fewest_gpus_that_hold_it()
    {
        // 8 GPUs of 1 GB: 'big' (2.4 GB) must split, and goes over 4 GPUs (2 would need 1.2 GB each). The small
        // tables, more expensive per GPU, would otherwise have been placed first.
        var c = Fixtures.Cluster(2, 4, hbm: 1e9);
        var w = Fixtures.Workload(Fixtures.WorkloadYaml.Replace(
            "  - {name: a, rows: 100000, dim: 32, pooling_factor: 10}",
            "  - {name: a, rows: 100000, dim: 32, pooling_factor: 10}\n  - {name: big, rows: 18000000, dim: 32, pooling_factor: 1}"));
        var plan = Fixtures.Greedy(c, w);
        var big = plan.Tables.Single(t => t.Table.Name == "big");
        Assert.Equal(ShardingScheme.RowWise, big.Scheme);
        Assert.Equal(4, big.Shards.Count);
        MemoryModel.EnsureFits(c, MemoryModel.PerRank(c, w, plan), "test");
    }
}
