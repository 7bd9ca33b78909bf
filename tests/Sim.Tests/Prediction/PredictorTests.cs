using Sim.Cost;
using Sim.Predictions;
using Sim.Sweep;
using Sim.Iterations;

namespace Sim.Tests;

/// <summary>The one entry point: a profile means the same in both modes, in sweeps and in capacity searches.</summary>
public class PredictorTests
{
    // Two GPUs in one node: every flow has a link of its own, so the event engine has nothing to contend for.
    private const string Plan = "tables: {a: {scheme: table_wise, ranks: [0]}, b: {scheme: table_wise, ranks: [1]}, c: {scheme: data_parallel}, d: {scheme: row_wise, ranks: [0, 1]}}";

    private static Scenario Uncontended()
    {
        var c = Fixtures.Cluster(1, 2);
        var w = Fixtures.Workload();
        return new Scenario(c, w, Fixtures.Plan(Plan, w, c));
    }

    /// <summary>Measured curves for both collectives at 2 GPUs: slower than the link model, or faster.</summary>
    public static TheoryData<double, double> Curves => new() { { 40e-6, 5e9 }, { 2e-6, 2000e9 } };

    private static Predictor Measured(double latency, double busBytesPerSecond) => new(CostParameters.Default with
    {
        CollectiveFits = [new CollectiveFit("all_to_all", 2, latency, busBytesPerSecond, 0), new CollectiveFit("all_reduce", 2, latency, busBytesPerSecond, 0)],
        Source = "test profile",
    });

    private static void AssertSamePhases(Prediction a, Prediction b)
    {
        Assert.Equal(a.IterationSeconds, b.IterationSeconds, 9);
        foreach (var ph in a.Phases) Assert.Equal(ph.Seconds, b.Phases.Single(x => x.Name == ph.Name).Seconds, 9);
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void Where_nothing_contends_analytical_equals_event_with_and_without_measured_curves(double latency, double bus)
    {
        var s = Uncontended();
        foreach (var predictor in new[] { Predictor.Uncalibrated, Measured(latency, bus) })
            AssertSamePhases(predictor.Predict(s, PredictionMode.Analytical), predictor.Predict(s, PredictionMode.Event));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void Measured_curves_change_event_mode_as_they_change_analytical_mode(double latency, double bus)
    {
        var s = Uncontended();
        var measured = Measured(latency, bus);
        double Ratio(PredictionMode m) => measured.Predict(s, m).IterationSeconds / Predictor.Uncalibrated.Predict(s, m).IterationSeconds;
        Assert.NotEqual(1, Ratio(PredictionMode.Analytical), 3);
        Assert.Equal(Ratio(PredictionMode.Analytical), Ratio(PredictionMode.Event), 9);
        // The collective phases themselves take the measured curve's time.
        var a2a = measured.Predict(s, PredictionMode.Event).Phases.Single(p => p.Name == Phases.AllToAllForward).Seconds;
        Assert.NotEqual(Predictor.Uncalibrated.Predict(s, PredictionMode.Event).Phases.Single(p => p.Name == Phases.AllToAllForward).Seconds, a2a, 9);
    }

    [Fact]
    public void Under_contention_a_measured_curve_keeps_the_engines_slowdown()
    {
        // Eight GPUs on two nodes share NICs: the event engine is slower than the closed form, with or without a profile.
        var c = Fixtures.Cluster(2, 4);
        var w = Fixtures.Workload();
        var s = new Scenario(c, w, Fixtures.Greedy(c, w));
        var measured = new Predictor(CostParameters.Default with { CollectiveFits = [new CollectiveFit("all_to_all", 8, 40e-6, 5e9, 0)] });
        var uncal = Predictor.Uncalibrated.Predict(s, PredictionMode.Event).IterationSeconds;
        var cal = measured.Predict(s, PredictionMode.Event).IterationSeconds;
        Assert.True(cal > uncal, $"{cal} vs {uncal}");
        Assert.True(cal >= measured.Predict(s, PredictionMode.Analytical).IterationSeconds * 0.999);
    }

    [Theory]
    [InlineData(PredictionMode.Analytical)]
    [InlineData(PredictionMode.Event)]
    public void Sweeps_and_capacity_searches_predict_with_the_profile(PredictionMode mode)
    {
        var family = Fixtures.Cluster(1, 2);
        var w = Fixtures.Workload();
        var measured = Measured(40e-6, 5e9);
        SweepRow Row(Predictor? p)
        {
            var ev = new SweepEvaluator(new SweepInputs(family, w, "work.yaml", "", "", predictor: p));
            return ev.Evaluate(ev.Inputs.BasePoint("greedy", false, mode));
        }
        var scenario = new Scenario(family, w, Fixtures.Greedy(family, w));
        Assert.Equal(measured.Predict(scenario, mode).IterationSeconds, Row(measured).IterationSeconds!.Value, 12);
        // Without a profile: the workload's stack default (eager: the built-in operator models).
        Assert.Equal(Predictor.ForWorkload(w).Predict(scenario, mode).IterationSeconds, Row(null).IterationSeconds!.Value, 12);

        CapacityResult Capacity(Predictor? p) => CapacitySearch.Run(family, w, "work.yaml", new CapacityQuery(1, 1, Mode: mode), predictor: p);
        var (cal, uncal) = (Capacity(measured).Prediction!, Capacity(null).Prediction!);
        Assert.Equal(measured.Predict(scenario, mode).IterationSeconds, cal.IterationSeconds, 12);
        Assert.Equal(Predictor.ForWorkload(w).Predict(scenario, mode).IterationSeconds, uncal.IterationSeconds, 12);
        Assert.NotEqual(uncal.IterationSeconds, cal.IterationSeconds, 9);
    }

    [Fact]
    public void Mode_words_round_trip_and_others_are_bad_input()
    {
        foreach (var m in Enum.GetValues<PredictionMode>()) Assert.Equal(m, PredictionModes.Parse(m.Word()));
        Assert.Throws<Config.SimInputException>(() => PredictionModes.Parse("Event"));
    }

    [Fact]
    public void Sweep_and_capacity_take_a_profile()
    {
        foreach (var cmd in new[] { "sweep", "capacity", "predict", "plan" })
            Assert.Contains("--profile", CliRunner.Run(cmd, "--help").Stdout);
    }
}
