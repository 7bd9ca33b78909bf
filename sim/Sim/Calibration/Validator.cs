using Sim.Predictions;
using Sim.Topology;
using Sim.Hardware;
using Sim.Workload;
using Sim.Profiles;
using Sim.Measurements;

namespace Sim.Calibration;

/// <summary>One measured run next to its predictions (iteration and per-phase: the slowest rank's seconds).</summary>
internal sealed record RunComparison(
    string File,
    string Workload,
    string Plan,
    int Gpus,
    double MeasuredSeconds,
    double AnalyticalSeconds,
    double EventSeconds,
    IReadOnlyList<double> MeasuredPhases,
    IReadOnlyList<double> PredictedPhases,
    string Stack = "",
    string Optimizer = "",
    string Card = "")
{
    public double AnalyticalError => Statistics.RelativeError(AnalyticalSeconds, MeasuredSeconds);
    public double EventError => Statistics.RelativeError(EventSeconds, MeasuredSeconds);
}

/// <summary>How far predictions are from measurements, overall and per group of plans on the same model and GPUs.</summary>
internal sealed record ValidationReport(IReadOnlyList<RunComparison> Runs, string Label)
{
    public double AnalyticalMape => Statistics.Mape(Runs.Select(r => (r.AnalyticalSeconds, r.MeasuredSeconds)));
    public double EventMape => Statistics.Mape(Runs.Select(r => (r.EventSeconds, r.MeasuredSeconds)));
    public double MaxAbsError => Runs.Select(r => Math.Abs(r.AnalyticalError)).DefaultIfEmpty(0).Max();

    /// <summary>Kendall's tau of predicted vs measured order, averaged over groups of plans of one model on one GPU count.</summary>
    public double KendallTau
    {
        get
        {
            var taus = Groups.Where(g => g.Count() >= 2)
                .Select(g => Statistics.KendallTau(g.Select(r => r.AnalyticalSeconds).ToArray(), g.Select(r => r.MeasuredSeconds).ToArray())).ToList();
            return taus.Count == 0 ? double.NaN : taus.Average();
        }
    }

    /// <summary>Groups in which the plan predicted fastest is also the plan measured fastest.</summary>
    public (int Agree, int Groups) BestPlanAgreement
    {
        get
        {
            var groups = Groups.Where(g => g.Count() >= 2).ToList();
            var agree = groups.Count(g => g.MinBy(r => r.AnalyticalSeconds)!.File == g.MinBy(r => r.MeasuredSeconds)!.File);
            return (agree, groups.Count);
        }
    }

    // Plans compete within one model, GPU count, stack and optimizer: that is the order a user picks a plan from.
    private IEnumerable<IGrouping<(string, int, string, string), RunComparison>> Groups => Runs.GroupBy(r => (r.Workload, r.Gpus, r.Stack, r.Optimizer));

    /// <summary>A phase is judged where it holds at least this share of its run's measured iteration (smaller ones matter little and are noisy).</summary>
    public const double JudgedPhaseShare = 0.05;

    /// <summary>Per phase: runs where it was judged, how many of them within 10%, its mean and worst absolute relative error.</summary>
    public IReadOnlyList<(string Phase, int Judged, int Within10, double Mape, double Worst)> PhaseErrors =>
        Iterations.Phases.All.Select((ph, i) =>
        {
            var errs = Runs.Where(r => r.MeasuredPhases[i] >= JudgedPhaseShare * r.MeasuredSeconds)
                .Select(r => Math.Abs(Statistics.RelativeError(r.PredictedPhases[i], r.MeasuredPhases[i]))).ToList();
            return (ph, errs.Count, errs.Count(e => e <= 0.10), errs.Count == 0 ? 0 : errs.Average(), errs.DefaultIfEmpty(0).Max());
        }).ToList();
}

/// <summary>Predicts measured runs with a predictor (a profile's, or the defaults) and compares, plus the cross-validations a user can trust.</summary>
internal static class Validator
{
    public static ValidationReport Compare(Predictor predictor, IReadOnlyList<MeasurementFile> runs, string label) =>
        new(runs.Select(r => Compare(predictor, r)).ToList(), label);

    /// <summary>Each run with the predictor chosen for it (a profile's, with the operator models of the stack the run used).</summary>
    public static ValidationReport Compare(Func<MeasurementFile, Predictor> predictorFor, IReadOnlyList<MeasurementFile> runs, string label) =>
        new(runs.Select(r => Compare(predictorFor(r), r)).ToList(), label);

    /// <summary>The predictor of a profile for one run: the operator models of the stack the run used.</summary>
    public static Predictor ForRun(CalibrationProfile? profile, MeasurementFile run) =>
        Predictor.For(profile, run.Measurement.Provenance.StackOrDefault);

    public static RunComparison Compare(Predictor predictor, MeasurementFile run)
    {
        var s = ScenarioFromMeasurement.Load(run.Measurement, run.File);
        var analytical = predictor.Predict(s, PredictionMode.Analytical);
        var ev = predictor.Predict(s, PredictionMode.Event);
        var e2e = run.Measurement.EndToEnd!;
        return new RunComparison(run.File, s.Workload.Name, s.Plan.Name, s.Cluster.WorldSize, e2e.Iteration.Median,
            analytical.IterationSeconds, ev.IterationSeconds, Calibrator.MeasuredPhases(run), Calibrator.PhaseMaxima(run, predictor.CostFor(s.Cluster)),
            run.Measurement.Provenance.StackOrDefault, s.Workload.Optimizer.Name(), run.Measurement.Provenance.GpuModel);
    }

    /// <summary>Each run predicted by a profile fitted without it (micro benchmarks stay in).</summary>
    public static ValidationReport LeaveOnePlanOut(Cluster cluster, string topologyName, IReadOnlyList<MeasurementFile> files)
    {
        var runs = Runs(files);
        var comparisons = runs.Select(held =>
        {
            var profile = Calibrator.Fit(cluster, topologyName, files, useRun: f => !ReferenceEquals(f, held));
            return Compare(ForRun(profile, held), held);
        }).ToList();
        return new ValidationReport(comparisons, "leave one plan out");
    }

    /// <summary>
    /// Fit on measurements of at most <paramref name="fitGpus"/> GPUs (collectives and runs), predict the runs on
    /// <paramref name="predictGpus"/>: collectives at the larger size then come from the link model with the fitted efficiency.
    /// </summary>
    public static ValidationReport Extrapolate(Cluster cluster, string topologyName, IReadOnlyList<MeasurementFile> files, int fitGpus, int predictGpus)
    {
        var small = files.Select(f => LimitWorld(f, fitGpus)).Where(f => f is not null).Select(f => f!).ToList();
        var profile = Calibrator.Fit(cluster, topologyName, small);
        var targets = Runs(files).Where(r => r.Measurement.Run!.WorldSize == predictGpus).ToList();
        return Compare(r => ForRun(profile, r), targets, $"fit on {fitGpus} GPUs, predict {predictGpus}");
    }

    public static IReadOnlyList<MeasurementFile> Runs(IReadOnlyList<MeasurementFile> files) =>
        files.Where(f => f.Measurement.Kind == MeasurementKinds.Run && f.Measurement.Status.IsOk && f.Measurement.EndToEnd is not null).ToList();

    private static MeasurementFile? LimitWorld(MeasurementFile f, int gpus)
    {
        var m = f.Measurement;
        if (m.Kind == MeasurementKinds.Run) return m.Run!.WorldSize <= gpus ? f : null;
        if (m.Micro is null) return f;
        var collectives = m.Micro.Collectives?.Where(c => c.WorldSize <= gpus).ToList();
        return f with { Measurement = m with { Micro = m.Micro with { Collectives = collectives } } };
    }
}
