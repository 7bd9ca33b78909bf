using Sim.Engine;
using Sim.Iterations;

namespace Sim.Tests;

/// <summary>The analytical model on tapered fabrics, against the event engine's exact flows on the same graph.</summary>
public class FabricBottleneckTests
{
    public static TheoryData<string> Tapered => ["fat tree 2:1", "fat tree 4:1", "two pods 1:1, 3:1 between", "rail-optimised 2:1", "shared NICs 1:1", "shared NICs 2:1"];

    [Theory]
    [MemberData(nameof(Tapered))]
    public void Analytical_matches_exact_flows_on_a_tapered_fabric(string fabric)
    {
        var (c, g, p) = FabricFixtures.HeavyRowWise(FabricFixtures.Tapered(fabric));
        var analytical = Timeline.Analytical(g).End;
        var exact = EventEngine.Run(c, g, p, coalesceAboveRanks: int.MaxValue).Timeline.End;
        Assert.InRange(analytical, exact * 0.97, exact * 1.03);
    }

    [Fact]
    public void A_non_blocking_fabric_costs_what_the_flat_network_does()
    {
        var (c, g, _) = FabricFixtures.HeavyRowWise(FabricFixtures.Tapered("fat tree 1:1"));
        var (_, flat, _) = FabricFixtures.HeavyRowWise(c with { Fabric = null });
        Assert.Null(Collectives.FabricBottleneck.For(c with { Fabric = null }));
        Assert.Equal(Timeline.Analytical(flat).End, Timeline.Analytical(g).End, 12);
    }

    [Fact]
    public void On_a_full_bisection_fabric_a_light_gpu_does_not_wait_for_its_leaf()
    {
        // An uneven greedy plan: per-GPU all-to-all times must be the flat network's, not the leaf's heaviest.
        var c = FabricFixtures.FatTreeCluster(8, 4, nodesPerLeaf: 2);
        var w = Workload.WorkloadGenerator.Generate(new Workload.GeneratorOptions(200, 1e9, 3) { Dims = [16], BatchSize = 64L * c.WorldSize });
        var plan = Fixtures.Greedy(c, w);
        var emb = Accounting.EmbeddingWork.Compute(c, w, plan);
        var p = Cost.CostParameters.Default;
        Assert.Null(Collectives.FabricBottleneck.For(c));
        Assert.Equal(Collectives.CollectiveModel.AllToAllPerRank(c with { Fabric = null }, p, emb.InputDistribution),
            Collectives.CollectiveModel.AllToAllPerRank(c, p, emb.InputDistribution));
    }

    [Fact]
    public void More_oversubscription_is_never_faster()
    {
        double Seconds(double ratio) => Timeline.Analytical(FabricFixtures.HeavyRowWise(
            FabricFixtures.FatTreeCluster(8, 4, nodesPerLeaf: 2, oversubscription: ratio, spines: 1)).Item2).End;
        var times = new[] { 1.0, 1.5, 2, 3, 4, 8 }.Select(Seconds).ToArray();
        for (var i = 1; i < times.Length; i++) Assert.True(times[i] >= times[i - 1], $"{times[i]} < {times[i - 1]}");
        Assert.True(times[^1] > 2 * times[0]);
    }
}
