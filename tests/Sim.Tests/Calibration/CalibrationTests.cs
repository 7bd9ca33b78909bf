using Sim.Calibration;
using Sim.Config;
using Sim.Cost;
using Sim.Predictions;
using Sim.Iterations;
using Sim.Profiles;
using Sim.Collectives;
using Sim.Measurements;

namespace Sim.Tests;

/// <summary>Calibration recovers known parameters from synthetic measurements made with those parameters.</summary>
public class CalibrationTests
{
    private static readonly Sim.Topology.Cluster Machine = Fixtures.Cluster(1, 4);

    private static MeasurementProvenance Provenance(string gpu = "TestGPU", string nccl = "2.28.9") =>
        new("cuda", gpu, 4, "580", "13.0", "13.0", nccl, "2.11.0", "0.107.0", "10.0", "2026-11-26T00:00:00Z", "abc", "harness micro");

    private static MeasurementFile Micro(MicroResults micro, string gpu = "TestGPU", string nccl = "2.28.9") =>
        new("micro.json", new Measurement(1, MeasurementKinds.Micro, Provenance(gpu, nccl), [], MeasurementStatus.Ok, Micro: micro));

    private static MicroResults SyntheticMicro()
    {
        // GEMMs that achieve 0.7 of peak when large, half of that at 2e9 FLOPs.
        const double e = 0.7, h = 2e9, peak = 20e12;
        var gemm = new[] { 64L, 256, 1024, 4096 }.Select(n =>
        {
            var f = GemmResult.Flops(n, n, n);
            var s = f / (peak * e * f / (f + h));
            return new GemmResult($"{n}^3", n, n, n, "fp32", s, f / s);
        }).ToList();
        // Embedding forward at 0.4 of HBM (1.5e12 B/s) plus 7 us, backward at 0.3.
        var emb = new[] { (1000L, 32, 4.0, 1024L), (100000L, 64, 20.0, 8192L), (1000000L, 128, 10.0, 65536L) }.Select(x =>
        {
            var r = new EmbeddingResult(x.Item1, x.Item2, x.Item3, x.Item4, "fp32", "sgd", 0, 0);
            return r with { ForwardSeconds = 7e-6 + Calibrator.ForwardBytes(r) / (0.4 * 1.5e12), BackwardSeconds = 7e-6 + Calibrator.BackwardBytes(r) / (0.3 * 1.5e12) };
        }).ToList();
        // All-to-all on 4 GPUs: 20 us + bus bytes at 200 GB/s; all-reduce: 30 us + bus bytes at 250 GB/s.
        var coll = new List<CollectiveResult>();
        for (long bytes = 1 << 10; bytes <= 1L << 30; bytes *= 4)
        {
            coll.Add(CollectiveResult.Create("all_to_all", 4, bytes, 20e-6 + bytes * 0.75 / 200e9));
            coll.Add(CollectiveResult.Create("all_reduce", 4, bytes, 30e-6 + bytes * 1.5 / 250e9));
        }
        return new MicroResults(2, 5, gemm, emb, coll);
    }

    [Fact]
    public void Micro_fits_recover_the_parameters_that_made_the_data()
    {
        var profile = Calibrator.Fit(Machine, "t.yaml", [Micro(SyntheticMicro())]);
        var p = profile.Parameters;
        Assert.Equal(0.7, p.GemmEfficiency, 6);
        Assert.InRange(p.GemmHalfSaturationFlops, 2e9 * 0.999999, 2e9 * 1.000001);
        Assert.Equal(0.4, p.EmbeddingEfficiency, 6);
        Assert.Equal(0.3, p.EmbeddingBackwardEfficiency, 6);
        Assert.Equal(7e-6, p.KernelOverheadSeconds, 9);
        var a2a = p.Collectives.Single(f => f.Op == "all_to_all" && f.WorldSize == 4);
        Assert.Equal(20e-6, a2a.LatencySeconds, 9);
        Assert.InRange(a2a.BusBytesPerSecond, 200e9 * 0.999999, 200e9 * 1.000001);
        // The fitted curve passes through every measured size, and each size of 1 MiB and up is predicted from its
        // neighbours alone (4x apart) within 5%.
        Assert.All(a2a.Points!, pt => Assert.Equal(pt.Seconds, a2a.Seconds(pt.Bytes), 15));
        Assert.True(a2a.MaxRelativeError < 0.05, $"{a2a.MaxRelativeError}");
        var ar = p.Collectives.Single(f => f.Op == "all_reduce");
        Assert.InRange(ar.BusBytesPerSecond, 250e9 * 0.999999, 250e9 * 1.000001);
        Assert.All(profile.Residuals.Where(r => !r.Quantity.Contains("MiB")), r => Assert.True(r.MaxAbsoluteRelativeError < 1e-6, r.Quantity));
    }

    [Fact]
    public void A_fitted_all_reduce_prices_the_iteration_graph()
    {
        var p = CostParameters.Default with { CollectiveFits = [new CollectiveFit("all_reduce", 4, 30e-6, 250e9, 0)] };
        Assert.Equal(30e-6 + 1.5 * 1e8 / 250e9, CollectiveCost.AllReduceSeconds(Machine, p, 1e8), 12);
        // No fit for 8 GPUs: the link model answers.
        var eight = Fixtures.Cluster(1, 8);
        Assert.Equal(Sim.Collectives.CollectiveModel.AllReduceSeconds(eight, p, 1e8), CollectiveCost.AllReduceSeconds(eight, p, 1e8));
    }

    [Fact]
    public void Mixing_cards_is_refused_with_a_clear_error()
    {
        var e = Assert.Throws<SimInputException>(() => Calibrator.Fit(Machine, "t.yaml", [Micro(SyntheticMicro()), Micro(SyntheticMicro(), gpu: "OtherGPU")]));
        Assert.Contains("provenance.gpu_model", e.Message);
        Assert.Contains("calibrate each card separately", e.Message);
        var s = Assert.Throws<SimInputException>(() => Calibrator.Fit(Machine, "t.yaml", [Micro(SyntheticMicro()), Micro(SyntheticMicro(), nccl: "2.21.5")]));
        Assert.Contains("software", s.Message);
    }

    [Fact]
    public void Profiles_round_trip_through_json()
    {
        var profile = Calibrator.Fit(Machine, "t.yaml", [Micro(SyntheticMicro())]);
        using var dir = new Fixtures.TempDir();
        var path = dir.Write("p.json", CalibrationProfileJson.Write(profile));
        var back = CalibrationProfileJson.Read(path);
        Assert.Equal(CalibrationProfileJson.Write(profile), CalibrationProfileJson.Write(back));
        Assert.Equal(profile.ToCostParameters().GemmEfficiency, back.ToCostParameters().GemmEfficiency);
    }

    /// <summary>A run "measured" as the model predicts it with compute phases 1.3x slower plus 50 us.</summary>
    private static MeasurementFile SyntheticRun(string plan, int index)
    {
        var topology = Fixtures.TopologyYaml(1, 4);
        var s = new Scenario(Machine, Fixtures.Workload(), Fixtures.Plan(plan, Fixtures.Workload(), Machine));
        var truth = CostParameters.Default with
        {
            PhaseCorrections = Phases.All.Where(ph => !Phases.IsCommunication(ph)).ToDictionary(ph => ph, _ => new PhaseCorrection(50e-6, 1.3)),
        };
        var graph = IterationGraph.Build(s.Cluster, s.Workload, s.Plan, truth);
        // [rank][phase] seconds, as the harness reports them per rank; per phase the slowest rank.
        var rankPhases = Enumerable.Range(0, 4).Select(r => Phases.All.Select(ph =>
            graph.Tasks.Where(t => t.Phase == ph && (t.Kind == TaskKind.Collective || t.Rank == r)).Sum(t => t.SecondsFor(r))).ToArray()).ToArray();
        var phases = Phases.All.Select((_, i) => rankPhases.Max(r => r[i])).ToArray();
        var iteration = Timeline.Analytical(graph).End;
        var e2e = new EndToEndResult(1, Phases.All.Select((ph, i) => new PhaseStats(ph, phases[i], phases[i], phases[i])).ToList(),
            new TimeStats(iteration, iteration, iteration), new TimeStats(iteration, iteration, iteration), new TimeStats(0, 0, 0), 0, 1024 / iteration,
            rankPhases, [new IterationSample(iteration, iteration, 0, phases, 0.7)]);
        var inputs = new List<MeasurementInput>
        {
            new("topology", "t.yaml", "x", topology.Length, topology),
            new("workload", "w.yaml", "x", Fixtures.WorkloadYaml.Length, Fixtures.WorkloadYaml),
            new("plan", "p.yaml", "x", plan.Length, plan),
        };
        var settings = new RunSettings("t.yaml", "w.yaml", "p.yaml", 4, 1024, 256, 1, 1, 1, 0.01, "rowwise_adagrad", "fp32");
        return new MeasurementFile($"run{index}.json", new Measurement(1, MeasurementKinds.Run, Provenance(), inputs, MeasurementStatus.Ok, settings, e2e));
    }

    private static readonly string[] Plans =
    [
        "tables: {a: {scheme: table_wise, ranks: [0]}, b: {scheme: table_wise, ranks: [1]}, c: {scheme: table_wise, ranks: [2]}, d: {scheme: table_wise, ranks: [3]}}",
        "tables: {a: {scheme: row_wise, ranks: [0, 1, 2, 3]}, b: {scheme: row_wise, ranks: [0, 1, 2, 3]}, c: {scheme: row_wise, ranks: [0, 1, 2, 3]}, d: {scheme: row_wise, ranks: [0, 1, 2, 3]}}",
        "tables: {a: {scheme: column_wise, ranks: [0, 1, 2, 3]}, b: {scheme: data_parallel}, c: {scheme: data_parallel}, d: {scheme: table_wise, ranks: [1]}}",
        "tables: {a: {scheme: table_wise, ranks: [0]}, b: {scheme: table_wise, ranks: [0]}, c: {scheme: table_wise, ranks: [0]}, d: {scheme: table_wise, ranks: [0]}}",
    ];

    [Fact]
    public void Phase_corrections_are_recovered_and_leave_one_plan_out_predicts_held_out_runs()
    {
        var runs = Plans.Select(SyntheticRun).ToList();
        var profile = Calibrator.Fit(Machine, "t.yaml", runs);
        // The lookup differs between plans, so offset and scale are both identifiable.
        var c = profile.Parameters.PhaseCorrections[Phases.EmbeddingLookup];
        Assert.Equal(1.3, c.Scale, 6);
        Assert.Equal(50e-6, c.OffsetSeconds, 9);
        // Dense compute is the same in every plan: only the ratio is identifiable, and it reproduces the runs.
        var dense = profile.Parameters.PhaseCorrections[Phases.DenseForward];
        var modelled = Calibrator.PhaseMaxima(runs[0], CostParameters.Default)[Phases.All.ToList().IndexOf(Phases.DenseForward)];
        Assert.Equal(50e-6 + 1.3 * modelled, dense.OffsetSeconds + dense.Scale * modelled, 12);
        // In sample, the corrected model reproduces every run.
        var inSample = Validator.Compare(Predictor.For(profile), runs, "fit");
        Assert.True(inSample.AnalyticalMape < 1e-9, $"MAPE {inSample.AnalyticalMape}");
        // Held out, a phase whose modelled time is the same in the three remaining runs (the dense optimizer
        // without data-parallel tables) can only be fitted as a ratio, so a run that differs there is off by a little.
        var report = Validator.LeaveOnePlanOut(Machine, "t.yaml", runs);
        Assert.Equal(4, report.Runs.Count);
        Assert.True(report.AnalyticalMape < 0.02, $"MAPE {report.AnalyticalMape}");
        Assert.Equal(1.0, report.KendallTau, 6);
        Assert.Equal((1, 1), report.BestPlanAgreement);
    }

    [Fact]
    public void Kendall_tau_has_its_closed_form_values()
    {
        Assert.Equal(1, Statistics.KendallTau([1, 2, 3, 4], [10, 20, 30, 40]), 12);
        Assert.Equal(-1, Statistics.KendallTau([1, 2, 3, 4], [4, 3, 2, 1]), 12);
        // One discordant pair out of six: (5 - 1) / 6.
        Assert.Equal(4.0 / 6, Statistics.KendallTau([1, 2, 3, 4], [1, 3, 2, 4]), 12);
    }
}
