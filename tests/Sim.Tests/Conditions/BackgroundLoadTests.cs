using Sim.Conditions;
using Sim.Predictions;
using Sim.Topology;
using static Sim.Tests.Conditions.ConditionFixtures;
using Sim.Iterations;

namespace Sim.Tests.Conditions;

/// <summary>Other jobs' traffic: a load f on a tier leaves (1 - f) of it to the job, in the event engine only.</summary>
public class BackgroundLoadTests
{
    [Theory]
    [InlineData(0.25)]
    [InlineData(0.5)]
    [InlineData(0.8)]
    public void Background_load_f_on_the_scale_out_tiers_leaves_1_minus_f_of_them_to_a_cross_node_all_to_all(double f)
    {
        // No latency or overhead: each all-to-all part is its NIC-bound flows' bytes over their share of the NICs.
        var s = Symmetric(NoLatency(Fixtures.Cluster(2, 4)));
        var ideal = NoOverhead.Predict(s, PredictionMode.Event);
        var loaded = NoOverhead.Run(s, PredictionMode.Event, conditions: With(background: $"scale-out={f}")).Prediction;
        foreach (var phase in new[] { Phases.AllToAllForward, Phases.AllToAllBackward })
        {
            Assert.True(Phase(ideal, phase) > 0);
            Assert.Equal(Phase(ideal, phase) / (1 - f), Phase(loaded, phase), 12);
        }
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.15)]
    public void A_stream_of_f_times_a_NIC_below_its_fair_share_leaves_1_minus_f_of_the_NICs_it_crosses(double f)
    {
        // Node 0 to node 1, GPU g to GPU g: each cross-node job flow shares its sender's and receiver's NIC with one
        // stream capped at f of the NIC (below the fair fifth), so the job gets (1 - f) of them.
        var s = Symmetric(NoLatency(Fixtures.Cluster(2, 4)));
        var nic = s.Cluster.ScaleOut.BytesPerSecond * NoOverhead.Cost.ScaleOutCollectiveEfficiency;
        var gbps = f * nic * 8 / 1e9 * 4; // in all, over the 4 GPU pairs
        var ideal = NoOverhead.Predict(s, PredictionMode.Event);
        var loaded = NoOverhead.Run(s, PredictionMode.Event, conditions: With(background: FormattableString.Invariant($"nodes:0>1={gbps:R}"))).Prediction;
        Assert.Equal(Phase(ideal, Phases.AllToAllForward) / (1 - f), Phase(loaded, Phases.AllToAllForward), 12);
    }

    [Fact]
    public void An_unlimited_stream_takes_a_fair_share_like_one_more_flow()
    {
        // Four job flows leave each node-0 GPU towards node 1; a fifth, unlimited stream makes them take 5/4 as long.
        var s = Symmetric(NoLatency(Fixtures.Cluster(2, 4)));
        var ideal = NoOverhead.Predict(s, PredictionMode.Event);
        var loaded = NoOverhead.Run(s, PredictionMode.Event, conditions: With(background: "nodes:0>1=1000000")).Prediction;
        Assert.Equal(Phase(ideal, Phases.AllToAllForward) * 5 / 4, Phase(loaded, Phases.AllToAllForward), 12);
        Assert.Contains(loaded.Conditions!, c => c.Contains("stream of 1000000 Gb/s from nodes 0-0 to nodes 1-1"));
    }

    [Fact]
    public void A_stream_between_nodes_beyond_the_cluster_is_an_input_error()
    {
        var s = Symmetric(Fixtures.Cluster(2, 4));
        var e = Throws(() => Predictor.Uncalibrated.Run(s, PredictionMode.Event, conditions: With(background: "nodes:0-1>2=100")));
        Assert.Contains("--background: node 2 is beyond", e.Message);
    }

    [Fact]
    public void The_share_left_follows_the_fine_tier_first_then_the_coarse_one()
    {
        var b = BackgroundLoad.Parse("scale-out=0.3,leaf=0.5");
        Assert.Equal(0.7, b.ShareOf(new NetworkLink(0, "a", "b", LinkTier.ScaleOut, 1, 0) { TierName = TierNames.Nic }), 12);
        Assert.Equal(0.5, b.ShareOf(new NetworkLink(0, "a", "b", LinkTier.ScaleOut, 1, 0) { TierName = TierNames.Leaf }), 12);
        Assert.Equal(1.0, b.ShareOf(new NetworkLink(0, "a", "b", LinkTier.IntraNode, 1, 0) { TierName = TierNames.NvLink }));
    }

    [Fact]
    public void More_background_is_never_faster()
    {
        var s = Symmetric(FabricFixtures.FatTreeCluster(4, 4, nodesPerLeaf: 2, spines: 2));
        double previous = 0;
        foreach (var f in new[] { 0.0, 0.1, 0.3, 0.5, 0.7, 0.9 })
        {
            var t = Predictor.Uncalibrated.Run(s, PredictionMode.Event, conditions: With(background: $"leaf={f},nic={f / 2}")).Prediction.IterationSeconds;
            Assert.True(t >= previous * (1 - 1e-12), $"background {f}: {t} s, faster than {previous} s at less load");
            previous = t;
        }
    }

    [Fact]
    public void No_background_is_the_ideal_cluster()
    {
        var s = Symmetric(Fixtures.Cluster(2, 4));
        var ideal = Predictor.Uncalibrated.Predict(s, PredictionMode.Event);
        var zero = Predictor.Uncalibrated.Run(s, PredictionMode.Event, conditions: With(background: "scale-out=0,nvlink=0")).Prediction;
        Assert.Equal(ideal.IterationSeconds, zero.IterationSeconds);
    }

    [Fact]
    public void Analytical_mode_says_it_cannot_see_background_load_and_points_to_event_mode()
    {
        var s = Symmetric(Fixtures.Cluster(2, 4));
        var ideal = Predictor.Uncalibrated.Predict(s, PredictionMode.Analytical);
        var loaded = Predictor.Uncalibrated.Run(s, PredictionMode.Analytical, conditions: With(background: "scale-out=0.5")).Prediction;
        Assert.Equal(ideal.IterationSeconds, loaded.IterationSeconds);
        Assert.Contains(loaded.Notes!, n => n.Contains("does not see the background load") && n.Contains("--mode event"));
        var evented = Predictor.Uncalibrated.Run(s, PredictionMode.Event, conditions: With(background: "scale-out=0.5")).Prediction;
        Assert.DoesNotContain(evented.Notes!, n => n.Contains("background"));
    }

    [Theory]
    [InlineData("scale-out=1", "in [0, 1)")]
    [InlineData("scale-out=1.5", "in [0, 1)")]
    [InlineData("nic=-0.1", "in [0, 1)")]
    [InlineData("core=0.3", "unknown tier 'core'")]
    [InlineData("nic=0.1,nic=0.2", "given twice")]
    [InlineData("nic", "expected TIER=FRACTION")]
    [InlineData("nodes:0-3>8", "expected nodes:FIRST-LAST>FIRST-LAST=GBPS")]
    [InlineData("nodes:3-0>8=100", "0 <= FIRST <= LAST")]
    [InlineData("nodes:0>1=0", "rate must be above 0")]
    [InlineData("nodes:a>1=10", "expected a node or a range")]
    public void Bad_background_options_name_the_option_and_the_problem(string text, string problem)
    {
        var e = Throws(() => BackgroundLoad.Parse(text));
        Assert.StartsWith("--background: ", e.Message);
        Assert.Contains(problem, e.Message);
    }
}
