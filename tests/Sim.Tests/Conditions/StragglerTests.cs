using Sim.Conditions;
using Sim.Predictions;
using static Sim.Tests.Conditions.ConditionFixtures;

namespace Sim.Tests.Conditions;

/// <summary>Slow ranks and jitter: the closed form of a synchronous step, and the invariants of sampling.</summary>
public class StragglerTests
{
    public static TheoryData<PredictionMode> Modes => new() { PredictionMode.Analytical, PredictionMode.Event };

    private static double ComputeOnPath(Prediction p) => p.CriticalPath.Where(s => !s.IsCommunication).Sum(s => s.Seconds);

    [Theory]
    [MemberData(nameof(Modes))]
    public void One_rank_f_times_slower_lengthens_a_synchronous_iteration_by_f_minus_1_times_its_share_of_the_critical_path(PredictionMode mode)
    {
        // Every rank does the same work, so any rank's compute is the critical path's compute: slowing rank 3 makes
        // it the pacer of every phase, and each synchronous phase waits for it.
        var s = Symmetric(Fixtures.Cluster(2, 4));
        var ideal = Predictor.Uncalibrated.Predict(s, mode);
        var share = ComputeOnPath(ideal);
        Assert.True(share > 0.1 * ideal.IterationSeconds, $"compute is {share / ideal.IterationSeconds:P1} of the iteration: too little to test");
        foreach (var f in new[] { 1.5, 2.0, 3.0 })
        {
            var slow = Predictor.Uncalibrated.Run(s, mode, conditions: With(stragglers: $"rank:3={f}")).Prediction;
            Assert.Equal(ideal.IterationSeconds + (f - 1) * share, slow.IterationSeconds, 12);
            Assert.Equal(3, slow.Distribution!.PacingRank);
            Assert.Equal(1, slow.Distribution.PacingShare);
        }
    }

    [Fact]
    public void A_slow_node_slows_the_iteration_as_much_as_one_slow_rank_of_it_when_ranks_are_alike()
    {
        var s = Symmetric(Fixtures.Cluster(2, 4));
        var rank = Predictor.Uncalibrated.Run(s, PredictionMode.Analytical, conditions: With(stragglers: "rank:5=2")).Prediction;
        var node = Predictor.Uncalibrated.Run(s, PredictionMode.Analytical, conditions: With(stragglers: "node:1=2")).Prediction;
        Assert.Equal(rank.IterationSeconds, node.IterationSeconds, 12);
        Assert.Equal(1, s.Cluster.NodeOf(node.Distribution!.PacingRank));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_factor_of_one_changes_nothing(PredictionMode mode)
    {
        var s = Symmetric(Fixtures.Cluster(2, 4));
        var ideal = Predictor.Uncalibrated.Predict(s, mode);
        var one = Predictor.Uncalibrated.Run(s, mode, conditions: With(stragglers: "rank:3=1.0,node:1=1")).Prediction;
        Assert.Equal(ideal.IterationSeconds, one.IterationSeconds);
        Assert.Equal(ideal.Phases, one.Phases);
    }

    [Fact]
    public void Jitter_with_the_same_seed_gives_the_same_distribution_and_another_seed_another()
    {
        var s = Symmetric(Fixtures.Cluster(2, 4));
        IterationDistribution Run(ulong seed) => Predictor.Uncalibrated.Run(s, PredictionMode.Analytical,
            conditions: With(jitter: "lognormal:0.1", iterations: 200, seed: seed)).Prediction.Distribution!;
        var a = Run(7);
        Assert.Equal(a.Seconds, Run(7).Seconds);
        Assert.NotEqual(a.Seconds, Run(8).Seconds);
        Assert.Equal(200, a.Seconds.Count);
        Assert.True(a.P50 <= a.P90 && a.P90 <= a.P99 && a.P99 <= a.Max && a.Min <= a.P50);
        Assert.True(a.Max > a.Min, "jitter must spread the iterations");
    }

    [Fact]
    public void Jitter_alone_on_alike_ranks_only_lengthens_the_typical_iteration()
    {
        // Each synchronous phase waits for the slowest of 8 mean-1 draws: its expectation is above 1.
        var s = Symmetric(Fixtures.Cluster(2, 4));
        var ideal = Predictor.Uncalibrated.Predict(s, PredictionMode.Analytical).IterationSeconds;
        var d = Predictor.Uncalibrated.Run(s, PredictionMode.Analytical, conditions: With(jitter: "lognormal:0.1", iterations: 200)).Prediction.Distribution!;
        Assert.True(d.P50 > ideal, $"p50 {d.P50} should exceed the jitter-free {ideal}");
        Assert.True(d.Min > ideal * 0.9);
    }

    [Fact]
    public void Jitter_draws_have_mean_one_and_the_asked_spread()
    {
        var j = new Jitter(0.2);
        var draws = Enumerable.Range(0, 20_000).Select(i => j.Factor(3, i / 100, i % 100)).ToArray();
        Assert.Equal(1.0, draws.Average(), 2);
        var logs = draws.Select(x => Math.Log(x)).ToArray();
        var mean = logs.Average();
        Assert.Equal(0.2, Math.Sqrt(logs.Sum(x => (x - mean) * (x - mean)) / logs.Length), 2);
    }

    [Fact]
    public void Where_nothing_contends_analytical_and_event_give_the_same_distribution()
    {
        // One node of two GPUs with a plan whose flows each have a link of their own (PredictorTests' uncontended case).
        var c = Fixtures.Cluster(1, 2);
        var w = Fixtures.Workload();
        var s = new Scenario(c, w, Fixtures.Plan("tables: {a: {scheme: table_wise, ranks: [0]}, b: {scheme: table_wise, ranks: [1]}, c: {scheme: data_parallel}, d: {scheme: row_wise, ranks: [0, 1]}}", w, c));
        var cond = With(stragglers: "rank:1=1.7", jitter: "lognormal:0.2", iterations: 30, seed: 5);
        var a = Predictor.Uncalibrated.Run(s, PredictionMode.Analytical, conditions: cond).Prediction.Distribution!;
        var e = Predictor.Uncalibrated.Run(s, PredictionMode.Event, conditions: cond).Prediction.Distribution!;
        for (var i = 0; i < a.Seconds.Count; i++) Assert.Equal(a.Seconds[i], e.Seconds[i], 12);
        Assert.Equal(a.PacingRank, e.PacingRank);
    }

    [Fact]
    public void Percentiles_are_nearest_rank()
    {
        var d = IterationDistribution.Of(Enumerable.Range(1, 100).Select(i => (double)i).Reverse().ToArray(), Enumerable.Repeat(0, 100).ToArray());
        Assert.Equal(50, d.P50);
        Assert.Equal(90, d.P90);
        Assert.Equal(99, d.P99);
        Assert.Equal(50.5, d.Mean);
    }

    [Fact]
    public void A_rank_beyond_the_world_size_is_an_input_error()
    {
        var s = Symmetric(Fixtures.Cluster(2, 4));
        var e = Throws(() => Predictor.Uncalibrated.Run(s, PredictionMode.Analytical, conditions: With(stragglers: "rank:8=2")));
        Assert.Contains("--stragglers", e.Message);
        Assert.Contains("rank 8 is beyond", e.Message);
        e = Throws(() => Predictor.Uncalibrated.Run(s, PredictionMode.Analytical, conditions: With(stragglers: "node:2=2")));
        Assert.Contains("node 2 is beyond", e.Message);
    }

    [Theory]
    [InlineData("rank:3=0", "must be positive")]
    [InlineData("rank:3=-2", "must be positive")]
    [InlineData("rank:3=abc", "expected a slowdown factor")]
    [InlineData("gpu:3=2", "unknown scope 'gpu'")]
    [InlineData("rank3=2", "expected rank:I=FACTOR")]
    [InlineData("rank:-1=2", "expected a whole number")]
    public void Bad_straggler_options_name_the_option_and_the_problem(string text, string problem)
    {
        var e = Throws(() => Stragglers.Parse(text));
        Assert.StartsWith("--stragglers: ", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Theory]
    [InlineData("lognormal:0", "must be positive")]
    [InlineData("normal:0.1", "expected lognormal:SIGMA")]
    [InlineData("lognormal:5", "at most 2")]
    public void Bad_jitter_options_name_the_option_and_the_problem(string text, string problem)
    {
        var e = Throws(() => Jitter.Parse(text));
        Assert.StartsWith("--jitter: ", e.Message);
        Assert.Contains(problem, e.Message);
    }
}
