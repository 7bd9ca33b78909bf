using Sim.Predictions;
using Sim.Topology;
using static Sim.Tests.Conditions.ConditionFixtures;
using Sim.Iterations;

namespace Sim.Tests.Conditions;

/// <summary>Degraded hardware: links, NICs and switches down or slowed, routed around, and overlays that cannot work.</summary>
public class DegradeOverlayTests
{
    [Fact]
    public void A_spine_removed_from_a_two_spine_non_blocking_fabric_halves_the_bisection()
    {
        var c = TwoSpines(4);
        var full = BisectionBandwidth.BytesPerSecond(c.BuildGraph());
        // Non-blocking: node 0's four NICs are the cut.
        Assert.Equal(4 * c.ScaleOut.BytesPerSecond, full, 3);
        var degraded = BisectionBandwidth.BytesPerSecond((c with { Overlay = Overlay("  - switch: p0.spine1\n    down: true\n") }).BuildGraph());
        Assert.Equal(full / 2, degraded, 3);
    }

    [Fact]
    public void A_cross_node_all_to_all_bound_by_the_lost_spine_takes_twice_as_long()
    {
        // 2 nodes of 8 GPUs, one per leaf: the leaf's two spine uplinks carry exactly its NICs' rate, so the
        // all-to-all is bound by the bisection: its node-0-to-node-1 bytes over the bisection (at the scale-out
        // efficiency). With one spine gone, all 64 cross-node flows each way share one uplink: exactly twice that.
        var s = Symmetric(NoLatency(TwoSpines(8)));
        var graph = IterationGraph.Build(s.Cluster, s.Workload, s.Plan, NoOverhead.Cost);
        var bisection = BisectionBandwidth.BytesPerSecond(s.Cluster.BuildGraph()) * NoOverhead.Cost.ScaleOutCollectiveEfficiency;
        var ideal = NoOverhead.Predict(s, PredictionMode.Event);
        var down = NoOverhead.Run(s, PredictionMode.Event, conditions: With(degrade: Overlay("  - switch: p0.spine1\n    down: true\n"))).Prediction;
        foreach (var phase in new[] { Phases.AllToAllForward, Phases.AllToAllBackward })
        {
            var demand = graph.Tasks.Single(t => t.Phase == phase).Collective!.Demand!;
            double crossing = 0;
            for (var src = 0; src < 8; src++)
                for (var dst = 8; dst < 16; dst++) crossing += demand.Bytes(src, dst);
            var bound = crossing / bisection;
            Assert.Equal(2 * bound, Phase(down, phase), 12);
            // Healthy, ECMP hashes the 64 pairs over two spines, never perfectly evenly: at the bound or a little above.
            Assert.InRange(Phase(ideal, phase) / bound, 1 - 1e-9, 1.1);
        }
    }

    [Fact]
    public void The_pacing_link_is_the_one_the_overlay_slowed_or_the_spine_left()
    {
        var flat = Symmetric(Fixtures.Cluster(2, 4));
        var slow = Predictor.Uncalibrated.Run(flat, PredictionMode.Event, conditions: With(degrade: Overlay("  - nic: n1.nic2\n    speed: 0.1\n"))).Prediction.BusiestLink!;
        Assert.Contains("n1.nic2", new[] { slow.From, slow.To });
        var spines = Symmetric(TwoSpines(4));
        var left = Predictor.Uncalibrated.Run(spines, PredictionMode.Event, conditions: With(degrade: Overlay("  - switch: p0.spine1\n    down: true\n"))).Prediction.BusiestLink!;
        Assert.Equal(TierNames.Leaf, left.Tier);
        Assert.Contains("p0.spine0", new[] { left.From, left.To });
        // Analytical mode simulates no links: no pacing link.
        Assert.Null(Predictor.Uncalibrated.Run(spines, PredictionMode.Analytical, conditions: With(stragglers: "rank:1=2")).Prediction.BusiestLink);
    }

    [Fact]
    public void Routing_keeps_only_the_paths_left()
    {
        var c = TwoSpines(4);
        var healthy = new GraphNetwork(c.BuildGraph()).RouteDetail(0, 4);
        var down = new GraphNetwork((c with { Overlay = Overlay("  - switch: p0.spine0\n    down: true\n") }).BuildGraph());
        var route = down.RouteDetail(0, 4);
        Assert.Equal(2, healthy.EqualCostPaths);
        Assert.Equal(1, route.EqualCostPaths);
        Assert.DoesNotContain(route.LinkIds, l => down.Links[l].From == "p0.spine0" || down.Links[l].To == "p0.spine0");
    }

    [Fact]
    public void Speed_one_changes_nothing_and_a_slower_link_is_never_faster()
    {
        var s = Symmetric(Fixtures.Cluster(2, 4));
        var ideal = Predictor.Uncalibrated.Predict(s, PredictionMode.Event).IterationSeconds;
        double Slowed(double speed) => Predictor.Uncalibrated.Run(s, PredictionMode.Event,
            conditions: With(degrade: Overlay($"  - nic: n0.nic0\n    speed: {speed}\n"))).Prediction.IterationSeconds;
        Assert.Equal(ideal, Slowed(1), 12);
        var previous = ideal;
        foreach (var speed in new[] { 0.8, 0.5, 0.2, 0.05 })
        {
            var t = Slowed(speed);
            Assert.True(t >= previous * (1 - 1e-12), $"NIC at {speed}: {t} s, faster than {previous} s");
            previous = t;
        }
        Assert.True(previous > ideal * 1.5, "a NIC at 5% must show");
    }

    [Fact]
    public void A_tier_at_a_fraction_of_its_speed_scales_every_link_of_it()
    {
        var c = TwoSpines(4);
        var g = (c with { Overlay = Overlay("  - tier: leaf\n    speed: 0.25\n") }).BuildGraph();
        var before = c.BuildGraph();
        Assert.Equal(before.Links.Count, g.Links.Count);
        for (var i = 0; i < g.Links.Count; i++)
            Assert.Equal(before.Links[i].BytesPerSecond * (g.Links[i].TierName == TierNames.Leaf ? 0.25 : 1), g.Links[i].BytesPerSecond, 6);
    }

    [Fact]
    public void Analytical_mode_checks_the_overlay_and_says_it_does_not_see_it()
    {
        var s = Symmetric(TwoSpines(4));
        var p = Predictor.Uncalibrated.Run(s, PredictionMode.Analytical, conditions: With(degrade: Overlay("  - switch: p0.spine1\n    down: true\n"))).Prediction;
        Assert.Contains(p.Notes!, n => n.Contains("degraded links") && n.Contains("--mode event"));
        Throws(() => Predictor.Uncalibrated.Run(s, PredictionMode.Analytical, conditions: With(degrade: Overlay("  - switch: p0.spine9\n    down: true\n"))));
    }

    [Fact]
    public void An_overlay_that_cuts_the_cluster_in_two_names_the_entry_that_does_it()
    {
        var c = TwoSpines(4) with { Overlay = Overlay("  - switch: p0.spine0\n    down: true\n  - switch: p0.spine1\n    down: true\n") };
        var e = Throws(() => c.BuildGraph());
        Assert.StartsWith("overlay.yaml:4:13: degrade[1].switch: switch p0.spine1 down cuts ", e.Message);
        Assert.Contains("the plan needs every GPU", e.Message);
    }

    [Theory]
    [InlineData("  - switch: p0.spine7\n    down: true\n", "overlay.yaml:2:13: degrade[0].switch: ", "no vertex 'p0.spine7'")]
    [InlineData("  - link: p0.leaf0--p0.leaf1\n    speed: 0.5\n", "overlay.yaml:2:11: degrade[0].link: ", "no link joins p0.leaf0 and p0.leaf1")]
    [InlineData("  - link: p0.leaf0\n    speed: 0.5\n", "overlay.yaml:2:11: degrade[0].link: ", "expected a cable as VERTEX--VERTEX")]
    [InlineData("  - nic: p0.spine0\n    down: true\n", "overlay.yaml:2:10: degrade[0].nic: ", "is a spine, not a NIC")]
    [InlineData("  - switch: n0.gpu0\n    down: true\n", "overlay.yaml:2:13: degrade[0].switch: ", "is a gpu, not a switch")]
    [InlineData("  - tier: core\n    speed: 0.5\n", "overlay.yaml:2:11: degrade[0].tier: ", "unknown tier 'core'")]
    public void Overlay_entries_that_name_nothing_in_the_graph_give_file_line_and_field(string entries, string where, string problem)
    {
        var c = TwoSpines(4) with { Overlay = Overlay(entries) };
        var e = Throws(() => c.BuildGraph());
        Assert.StartsWith(where, e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Theory]
    [InlineData("  - switch: p0.spine0\n    speed: 0\n", "degrade[0].speed: must be positive")]
    [InlineData("  - switch: p0.spine0\n    speed: 1.5\n", "degrade[0].speed: must be at most 1")]
    [InlineData("  - switch: p0.spine0\n", "expected exactly one of `down: true` or `speed: FRACTION`")]
    [InlineData("  - switch: p0.spine0\n    down: false\n", "degrade[0].down: write `down: true`")]
    [InlineData("  - switch: p0.spine0\n    link: a--b\n    down: true\n", "expected exactly one of: link, switch, nic, tier")]
    [InlineData("  - tier: leaf\n    down: true\n", "a whole tier down")]
    [InlineData("  - switch: p0.spine0\n    down: true\n    sped: 1\n", "degrade[0].sped: unknown field")]
    public void Malformed_overlay_entries_are_rejected_where_they_are_written(string entries, string problem)
    {
        var e = Throws(() => Overlay(entries));
        Assert.StartsWith("overlay.yaml:", e.Message);
        Assert.Contains(problem, e.Message);
    }
}
