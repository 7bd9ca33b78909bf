using Sim.Config;
using Sim.Predictions;
using Sim.Sweep;

namespace Sim.Tests.Conditions;

/// <summary>Background load, a straggler and jitter as sweep axes, the shipped sweep, and the report's charts of them.</summary>
public class ConditionSweepTests
{
    private const string Sweep = """
        name: conditions
        base:
          topology: topo.yaml
          workload: work.yaml
          planner: greedy
          mode: event
          iterations: 15
          seed: 3
        axes:
          background_load: [0, 0.3, 0.6, 0.9]
          straggler_factor: [1, 2]
          jitter_sigma: [0, 0.1]
        """;

    private static List<SweepRow> Rows(string sweepYaml)
    {
        using var d = new SweepTests.SweepDir(sweepYaml);
        var spec = SweepLoader.Load(d.Sweep);
        var inputs = SweepInputs.Load(spec);
        var evaluator = new SweepEvaluator(inputs);
        return SweepExpansion.Expand(spec, inputs).Select(evaluator.Evaluate).ToList();
    }

    [Fact]
    public void More_background_load_is_never_faster_in_a_sweep_and_a_slow_rank_never_speeds_it_up()
    {
        var rows = Rows(Sweep);
        Assert.All(rows, r => Assert.True(r.IsOk, r.Error));
        foreach (var g in rows.GroupBy(r => (r.Point.StragglerFactor, r.Point.JitterSigma)))
        {
            var byLoad = g.OrderBy(r => r.Point.BackgroundLoad).Select(r => r.IterationSeconds!.Value).ToArray();
            for (var i = 1; i < byLoad.Length; i++) Assert.True(byLoad[i] >= byLoad[i - 1]);
            Assert.True(byLoad[^1] > byLoad[0], "90% background must show");
        }
        foreach (var g in rows.GroupBy(r => (r.Point.BackgroundLoad, r.Point.JitterSigma)))
            Assert.True(g.Single(r => r.Point.StragglerFactor == 2).IterationSeconds > g.Single(r => r.Point.StragglerFactor == 1).IterationSeconds);
        // Jittered rows carry a distribution; the ideal row (no conditions at all) carries none.
        Assert.All(rows.Where(r => r.Point.JitterSigma > 0), r => Assert.True(r.IterationSecondsP99 >= r.IterationSecondsP50));
        Assert.Null(rows.Single(r => !r.Point.HasConditions).IterationSecondsP50);
    }

    [Fact]
    public void Points_without_conditions_keep_the_keys_they_had()
    {
        var p = new SweepPoint(2, 4, 200, 300, 40_000_000_000, Hardware.DType.Fp32, Hardware.DType.Fp32, Hardware.DType.Fp32, Hardware.DType.Fp32, 1024, "greedy", false, PredictionMode.Event);
        Assert.DoesNotContain("background", p.CanonicalText());
        Assert.DoesNotContain("straggler", p.CanonicalText());
        Assert.DoesNotContain("jitter", p.CanonicalText());
        Assert.NotEqual(SweepExpansion.Key("f", p), SweepExpansion.Key("f", p with { BackgroundLoad = 0.5 }));
        Assert.Equal(p.PlanInputsText(), (p with { BackgroundLoad = 0.5, StragglerFactor = 2, JitterSigma = 0.1 }).PlanInputsText());
    }

    [Fact]
    public void Background_load_in_an_analytical_sweep_is_refused_where_it_is_written()
    {
        using var d = new SweepTests.SweepDir(Sweep.Replace("  mode: event\n", ""));
        var e = Assert.Throws<SimInputException>(() => SweepLoader.Load(d.Sweep));
        Assert.Contains("sweep.yaml:9:3: axes.background_load: only the event engine sees background load", e.Message);
    }

    [Theory]
    [InlineData("background_load: [0, 1]", "axes.background_load[1]: must be below 1")]
    [InlineData("background_load: [-0.1]", "axes.background_load[0]: must be 0 or more")]
    [InlineData("straggler_factor: [0]", "axes.straggler_factor[0]: must be positive")]
    [InlineData("jitter_sigma: [3]", "axes.jitter_sigma[0]: must be at most 2")]
    public void Bad_condition_axis_values_name_the_value(string axis, string problem)
    {
        using var d = new SweepTests.SweepDir($"name: x\nbase:\n  topology: topo.yaml\n  workload: work.yaml\n  mode: event\naxes:\n  {axis}\n");
        var e = Assert.Throws<SimInputException>(() => SweepLoader.Load(d.Sweep));
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void The_shipped_background_sweep_is_on_zionex_16node_in_event_mode_and_varies_background_load()
    {
        var files = Directory.GetFiles(Fixtures.Repo("workloads/sweeps"), "*.yaml").Where(f => Path.GetFileName(f).Contains("background")).ToList();
        var spec = SweepLoader.Load(Assert.Single(files));
        Assert.Equal("zionex-16node.yaml", Path.GetFileName(spec.TopologyPath));
        Assert.Equal(PredictionMode.Event, spec.Mode);
        var loads = spec.Axes.Single(a => a.Axis.Name == "background_load").Values.Cast<double>().ToArray();
        Assert.Equal(0, loads[0]);
        Assert.True(loads.Length >= 4);
        // The lightest and the heaviest load, as the sweep runs them: throughput falls.
        var inputs = SweepInputs.Load(spec);
        var evaluator = new SweepEvaluator(inputs);
        var points = SweepExpansion.Expand(spec, inputs).Where(p => p.StragglerFactor == 1 && p.JitterSigma == 0).OrderBy(p => p.BackgroundLoad).ToList();
        var light = evaluator.Evaluate(points[0]);
        var heavy = evaluator.Evaluate(points[^1]);
        Assert.True(light.IsOk && heavy.IsOk);
        Assert.True(heavy.SamplesPerSecond < light.SamplesPerSecond / 2);
    }

    [Fact]
    public void The_report_draws_slowdown_against_background_load_and_the_distribution()
    {
        var rows = Rows(Sweep);
        var a = new SweepAnalysis(rows);
        var series = a.Background();
        Assert.Equal(4, series.Count);
        Assert.All(series, s => Assert.Equal(1, s.Points[0].Slowdown));
        Assert.Equal(8, a.Distributions().Count);
        var report = Cli.ReportCommand.Build(a, "results.duckdb", ["conditions"], null);
        Assert.Contains(report.Charts, c => c.Name == "background-slowdown");
        Assert.Contains(report.Charts, c => c.Name == "background-throughput");
        Assert.Contains(report.Charts, c => c.Name == "distribution");
        Assert.Contains("Shared fabric: background load", report.Html);
    }
}
